// Set only by the chaos harness's wrangler dev (--define __CHAOS_HOOKS__:true, scripts/chaos.ts);
// wrangler.toml defines it false, so deployed builds drop the hooks, and in-process tests (bun)
// see it undefined.
declare const __CHAOS_HOOKS__: boolean | undefined
