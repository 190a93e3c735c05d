// The graphql-http server audit against a live credgraph: node audit.mjs http://host:port/graphql
// Prints every audit that is not ok; exits 1 on any warning or error (notices are allowed).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
let failed = 0;
let passed = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    passed += 1;
  } else {
    if (result.status !== 'notice') failed += 1;
    console.log(`${result.status} ${audit.id} ${audit.name}: ${result.reason}`);
  }
}
console.log(`graphql-http audit: ${passed} ok, ${failed} warnings or errors`);
process.exit(failed ? 1 : 0);
