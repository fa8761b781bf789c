/** Command-line options of `npm run bench`: which items, and full or quick sizes. */
export interface BenchOptions {
  /** Item numbers to run (1–7), in order. */
  only: number[];
  quick: boolean;
  /** Write a CPU profile of each `hearth serve` child and of the baselines it is compared with (the bare servers of items 1 and 4, item 7's bare proxy) into bench/.data/profiles. */
  profile: boolean;
}

const ITEMS = [1, 2, 3, 4, 5, 6, 7, 9] as const;

const USAGE = `usage: npm run bench -- [--quick] [--only 1,2,...] [--profile]

  --quick      smaller sizes and shorter runs (about a minute)
  --only LIST  run only these items: 1 verify over HTTP, 2 verify in-process, 3 user list,
               4 create service account + key, 5 better-auth comparison, 6 server memory,
               7 inference gateway vs a bare forwarding proxy and Portkey, 9 audit hash chain cost and export memory
  --profile    run each hearth serve child and its baseline (the bare servers of items 1 and 4, item 7's bare
               proxy) with --cpu-prof (profiles in bench/.data/profiles)`;

export function parseOptions(argv: string[]): BenchOptions {
  const options: BenchOptions = { only: [...ITEMS], quick: false, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") options.quick = true;
    else if (arg === "--profile") options.profile = true;
    else if (arg === "--only" || arg.startsWith("--only=")) {
      const list = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      const items = (list ?? "").split(",").map((s) => Number(s.trim()));
      if (items.length === 0 || items.some((n) => !ITEMS.includes(n as (typeof ITEMS)[number]))) {
        throw new Error(`--only takes item numbers 1-7 separated by commas, not ${JSON.stringify(list)}\n\n${USAGE}`);
      }
      options.only = [...new Set(items)].sort((a, b) => a - b);
    } else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${JSON.stringify(arg)}\n\n${USAGE}`);
  }
  return options;
}

/** Sizes and durations of every item, full or quick. */
export function sizes(quick: boolean) {
  return quick
    ? {
        httpSeconds: 3,
        httpRounds: 1,
        inProcessKeys: 1_000,
        inProcessSeconds: 1,
        listUsers: 20_000,
        listRequests: 100,
        createSeconds: 3,
        betterAuthSeconds: 1,
        memoryKeys: 100_000,
        memoryKept: 10_000,
        memoryVerified: 10_000,
        gatewaySeconds: 2,
        gatewayWarmUpSeconds: 1,
      }
    : {
        httpSeconds: 8,
        httpRounds: 3,
        inProcessKeys: 1_000,
        inProcessSeconds: 3,
        listUsers: 100_000,
        listRequests: 400,
        createSeconds: 5,
        betterAuthSeconds: 3,
        memoryKeys: 1_000_000,
        memoryKept: 100_000,
        memoryVerified: 100_000,
        gatewaySeconds: 5,
        gatewayWarmUpSeconds: 2,
      };
}

export type Sizes = ReturnType<typeof sizes>;
