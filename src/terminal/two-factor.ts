// Turning two-factor on from the terminal: orders need a login with a one-time code, so an
// account without it sees why and can enroll here — the secret to type into an authenticator
// app (and its otpauth:// link), then a code from the app to confirm. A login with a code follows.
import { h, problemText } from './dom.ts'
import { api, authed } from './session.ts'
import { on, state } from './state.ts'

export function twoFactor(logInAgain: () => void) {
  const root = h('div.twofactor', { hidden: true })

  function offer() {
    root.replaceChildren(
      h('p', {}, 'Orders need two-factor authentication, and it is off for this account.'),
      h('button.small', { type: 'button', onclick: enroll }, 'Turn on two-factor'),
    )
  }

  async function enroll() {
    try {
      const { secret, otpauth_uri } = await authed(api.enrollTotp)
      const code = h('input', {
        name: 'totp',
        inputmode: 'numeric',
        autocomplete: 'one-time-code',
        'aria-label': 'Code from the app',
      })
      const error = h('output.result.error')
      const form = h(
        'form',
        {},
        h('p', {}, 'Add this key to your authenticator app, then type the code it shows.'),
        h('code.secret', {}, secret.replace(/(.{4})/g, '$1 ').trim()),
        h('a', { href: otpauth_uri }, 'open in an authenticator app'),
        h('div.row', {}, code, h('button.small', { type: 'submit' }, 'Confirm')),
        error,
      )
      form.addEventListener('submit', async (e) => {
        e.preventDefault()
        try {
          await authed(() => api.verifyTotp(code.value.trim()))
          confirmed()
        } catch (err) {
          error.textContent = problemText(err)
        }
      })
      root.replaceChildren(form)
      code.focus()
    } catch (err) {
      root.replaceChildren(h('output.result.error', {}, problemText(err)))
    }
  }

  /** this session's token still has no second factor: a login with a code gets one that does */
  function confirmed() {
    root.replaceChildren(
      h('p.ok', {}, 'Two-factor is on. Log in again with a code from the app to trade.'),
      h('button.small', { type: 'button', onclick: logInAgain }, 'Log in again'),
    )
  }

  on('account', () => {
    const off = state.account?.two_factor !== 'enabled'
    if (off && root.hidden) offer()
    root.hidden = !off && !root.querySelector('.ok')
  })
  return root
}
