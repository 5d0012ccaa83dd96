// The price chart (canvas): a tick chart of the symbol's trades since the terminal subscribed —
// one step per trade, so a quiet market reads as well as a busy one — with each trade's volume
// below, coloured by its aggressor, the best bid and ask as dashed lines and the last price tagged.
import { formatCents, parseCents } from '../lib/money.ts'
import { h } from './dom.ts'
import { lastPrice, on, state } from './state.ts'

const COLORS = {
  grid: '#1e2630',
  text: '#7d8a99',
  line: '#4da3ff',
  fill: 'rgba(77, 163, 255, 0.12)',
  buy: '#26c281',
  sell: '#f0506e',
  tag: '#e6edf3',
}
const AXIS = 58 // px for the price labels on the right
const VOLUME = 0.2 // share of the height for volume bars

export function chart() {
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Price chart' })
  const title = h('span.dim')
  const root = h('section.panel.chart', {}, h('header', {}, h('h2', {}, 'Chart'), title), canvas)

  function render() {
    const box = canvas.getBoundingClientRect()
    if (!box.width || !box.height) return
    const ratio = window.devicePixelRatio || 1
    canvas.width = Math.round(box.width * ratio)
    canvas.height = Math.round(box.height * ratio)
    const g = canvas.getContext('2d')!
    g.scale(ratio, ratio)
    draw(g, box.width, box.height)
    title.textContent = `${state.symbol} · ${state.trades.length} trades`
  }

  new ResizeObserver(render).observe(canvas)
  on('trades', render)
  on('book', render)
  on('symbol', render)
  return root
}

function draw(g: CanvasRenderingContext2D, width: number, height: number) {
  g.font = '11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace'
  g.textBaseline = 'middle'
  const trades = state.trades
  const bestBid = Math.max(...state.bids.keys())
  const bestAsk = Math.min(...state.asks.keys())
  const last = lastPrice()
  const prices = trades.map((t) => parseCents(t.price))
  const seen = [...prices, ...[bestBid, bestAsk].filter(Number.isFinite), ...(last ? [parseCents(last)] : [])]
  if (!seen.length) return message(g, width, height, 'waiting for the market')

  const plotW = width - AXIS
  const priceH = height * (1 - VOLUME) - 8
  let lo = Math.min(...seen)
  let hi = Math.max(...seen)
  // a tenth of the range; one price alone (a symbol's reference before any trade) gets a tenth
  // of a percent of it each way, a readable scale instead of one of single cents
  const pad = hi === lo ? Math.max(2, Math.round(hi * 0.001)) : Math.max(2, Math.round((hi - lo) * 0.1))
  lo -= pad
  hi += pad
  const y = (c: number) => 6 + ((hi - c) / (hi - lo)) * (priceH - 12)
  const x = (i: number) => (trades.length < 2 ? plotW / 2 : (i / (trades.length - 1)) * (plotW - 8) + 4)

  // price grid and labels (none under the last price's tag)
  const step = niceStep((hi - lo) / 6)
  const tagY = last ? y(parseCents(last)) : -Infinity
  g.strokeStyle = COLORS.grid
  g.fillStyle = COLORS.text
  g.lineWidth = 1
  for (let c = Math.ceil(lo / step) * step; c <= hi; c += step) {
    g.beginPath()
    g.moveTo(0, Math.round(y(c)) + 0.5)
    g.lineTo(plotW, Math.round(y(c)) + 0.5)
    g.stroke()
    if (Math.abs(y(c) - tagY) > 14) g.fillText(formatCents(c), plotW + 6, y(c))
  }

  for (const [c, color] of [
    [bestBid, COLORS.buy],
    [bestAsk, COLORS.sell],
  ] as const) {
    if (!Number.isFinite(c)) continue
    g.setLineDash([4, 4])
    g.strokeStyle = color
    g.beginPath()
    g.moveTo(0, y(c))
    g.lineTo(plotW, y(c))
    g.stroke()
    g.setLineDash([])
  }

  if (trades.length) {
    // the price, stepped, with the area under it
    g.beginPath()
    g.moveTo(x(0), y(prices[0]))
    prices.forEach((c, i) => {
      if (i) g.lineTo(x(i), y(prices[i - 1]))
      g.lineTo(x(i), y(c))
    })
    g.strokeStyle = COLORS.line
    g.lineWidth = 1.5
    g.stroke()
    g.lineTo(x(prices.length - 1), priceH)
    g.lineTo(x(0), priceH)
    g.closePath()
    g.fillStyle = COLORS.fill
    g.fill()

    // volume
    const most = Math.max(...trades.map((t) => t.qty))
    const barW = Math.max(1, Math.min(8, plotW / trades.length - 1))
    trades.forEach((t, i) => {
      const barH = (t.qty / most) * (height * VOLUME - 4)
      g.fillStyle = t.side === 'buy' ? COLORS.buy : COLORS.sell
      g.globalAlpha = 0.6
      g.fillRect(x(i) - barW / 2, height - barH, barW, barH)
    })
    g.globalAlpha = 1
  } else {
    message(g, plotW, priceH, 'no trades since you opened the symbol')
  }

  if (last) {
    g.fillStyle = COLORS.line
    g.fillRect(plotW + 1, tagY - 8, AXIS - 2, 16)
    g.fillStyle = COLORS.tag
    g.fillText(last, plotW + 6, tagY)
  }
}

function message(g: CanvasRenderingContext2D, width: number, height: number, text: string) {
  g.fillStyle = COLORS.text
  g.textAlign = 'center'
  g.fillText(text, width / 2, height / 2)
  g.textAlign = 'start'
}

/** a round grid step (1, 2 or 5 times a power of ten cents) near the one asked */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, raw)))
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power
}
