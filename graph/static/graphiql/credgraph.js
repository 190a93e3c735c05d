// credgraph's GraphiQL: everything served by the server itself (no CDN), no inline script (the
// page's Content-Security-Policy allows only scripts from the server).
//
// Share links work as GraphiQL's do: ?query=…&variables=…&operationName=… open with those in
// the editors, and edits keep the address up to date. ?headers=… (the demo's signed-in link)
// fills the headers editor once and then leaves the address bar: a token is not something to
// bookmark or paste by accident.
"use strict";

const EXAMPLE_QUERY = `# credgraph: training credentials over GraphQL.
#
# Paste your token into the Headers tab below:
#     {"Authorization": "Bearer <token>"}
# (\`credgraph token EMAIL\` prints one; \`credgraph serve --demo\` prints demo tokens.)
#
# Run with Ctrl-Enter. The Docs panel lists every type and field.

query Me {
  me {
    id
    name
    email
    role
    organization { name }
  }
}
`;
const DEFAULT_HEADERS = JSON.stringify({ Authorization: "Bearer <token>" }, null, 2);

const address = new URL(window.location.href);
const shared = Object.fromEntries(address.searchParams.entries());
const signedIn = shared.headers;
if (signedIn !== undefined) {
  address.searchParams.delete("headers");
  history.replaceState(null, "", address.pathname + address.search + address.hash);
}

function remember(changes) {
  const next = new URL(window.location.href);
  for (const [key, value] of Object.entries(changes)) {
    if (value) next.searchParams.set(key, value);
    else next.searchParams.delete(key);
  }
  history.replaceState(null, "", next.pathname + next.search + next.hash);
}

const fetcher = GraphiQL.createFetcher({ url: address.origin + address.pathname });

function CredgraphGraphiQL() {
  const [query, setQuery] = React.useState(shared.query || shared.q || EXAMPLE_QUERY);
  const [variables, setVariables] = React.useState(shared.variables);
  const explorer = React.useMemo(() => GraphiQLPluginExplorer.explorerPlugin(), []);
  return React.createElement(GraphiQL, {
    fetcher,
    plugins: [explorer],
    query,
    variables,
    headers: signedIn,
    operationName: shared.operationName,
    onEditQuery: (next) => {
      setQuery(next);
      remember({ query: next, q: "" });
    },
    onEditVariables: (next) => {
      setVariables(next);
      remember({ variables: next });
    },
    onEditOperationName: (next) => remember({ operationName: next }),
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultHeaders: DEFAULT_HEADERS,
    inputValueDeprecation: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(CredgraphGraphiQL),
);
