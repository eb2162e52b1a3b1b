// The layering of lib/ (docs/architecture.md, "Layers"), checked by dependency-cruiser in
// spec/package/layering.spec.ts and `npm run lint`. A layer may import only the layers before
// it in LAYERS; the index.ts barrels may import anything.
const LAYERS = ['errors', 'types', 'config', 'wire', 'transport', 'protocol', 'notifications', 'client', 'interop'];

const barrels = ['^lib/index\\.ts$', '^lib/[^/]+/index\\.ts$'];

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer}`,
  comment: `lib/${layer} is below ${LAYERS.slice(index + 1).join(', ')}: it must not import them.`,
  severity: 'error',
  from: { path: `^lib/${layer}/`, pathNot: barrels },
  to: { path: `^lib/(?:${LAYERS.slice(index + 1).join('|')})/` },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment:
        'A cycle of run-time imports makes module load order matter. Cycles through a type-only ' +
        'import are allowed: they vanish at run time, and Connection and Transaction name each ' +
        'other by design (connection.transaction() hands out a Transaction that wraps the Connection).',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'sockets-only-in-transport',
      comment:
        'Only lib/transport imports net and tls: nothing else opens or touches a socket (the IP ' +
        'literal check is lib/config/ip-address.ts). Type-only imports (TLS option types in the ' +
        'config) are not sockets.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/transport/' },
      to: { path: '^(?:node:)?(?:net|tls)$', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count for layering: a lower layer naming a higher layer's type is
    // still an upward dependency.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
