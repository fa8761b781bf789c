// `npm run check:cycles`: no import cycle between modules, and none between the layers of src/.
// Type-only imports count: a cycle of types still ties two modules together.
//
// The layers, each importing only those before it:
//   domain → store → service | cluster → gateway → http → cli, server.ts
// (config.ts and platform-config.ts sit beside domain: plain settings, read by every layer; so do
// the API's resource schemas in http/resources/, which type the services' views and import only
// zod, domain and each other).
// service and cluster do not import each other: a service sees the cluster through the interfaces
// in domain/cluster.ts, handed to it in Deps.

/** A rule forbidding `layer` (a folder of src/) to import any of `above` (http/resources/ excepted). */
function below(layer, above, comment) {
  return {
    name: `${layer}-imports-no-higher-layer`,
    comment,
    severity: "error",
    from: { path: `^src/${layer}/` },
    to: { path: `^src/(?:${above.join("|")})/|^src/server\\.ts$`, pathNot: "^src/http/resources/" },
  };
}

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      comment: "Two modules that import each other, directly or through others, cannot be understood, tested or loaded one without the other.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    below("domain", ["store", "service", "cluster", "gateway", "http", "cli"], "domain/ is pure: rules and shared types, no I/O."),
    below("store", ["service", "cluster", "gateway", "http", "cli"], "The store reads and writes rows; it knows no use case."),
    below("service", ["cluster", "gateway", "http", "cli"], "Use cases; the cluster and the rate limiter reach them as domain interfaces."),
    below("cluster", ["service", "gateway", "http", "cli"], "Cross-process coordination implements domain interfaces."),
    below("gateway", ["cluster", "http", "cli"], "The inference gateway uses services, never the HTTP layer."),
    below("http", ["cli"], "Routes call services and the gateway."),
    {
      name: "resource-schemas-import-only-domain",
      comment: "The API's resource schemas are read by the services: they must not import what imports them.",
      severity: "error",
      from: { path: "^src/http/resources/" },
      to: { path: "^src/(?!domain/|http/resources/)" },
    },
    {
      name: "settings-import-only-domain",
      comment: "config.ts and platform-config.ts are read by every layer.",
      severity: "error",
      from: { path: "^src/(?:platform-)?config\\.ts$" },
      to: { path: "^src/(?:store|service|cluster|gateway|http|cli)/|^src/server\\.ts$" },
    },
  ],
  options: {
    // TypeScript 7.0 offers no in-process compiler API; swc parses the sources (type-only imports included).
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^web/dist/" },
  },
};
