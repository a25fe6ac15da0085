// A real authorization server for the tests: oidc-provider with the client credentials grant
// (RFC 6749 §4.4), on loopback, on a port the system picks. It prints the port, then serves
// until it is killed. Clients: `svccheck-basic` (client_secret_basic), `svccheck-post`
// (client_secret_post); the secrets come from the environment.
import http from "node:http";
import Provider from "oidc-provider";

const secret = process.env.OIDC_CLIENT_SECRET ?? "";
const expiresIn = Number(process.env.OIDC_TOKEN_TTL ?? "600");
const provider = new Provider("http://127.0.0.1", {
  clients: [
    { client_id: "svccheck-basic", client_secret: secret, token_endpoint_auth_method: "client_secret_basic" },
    { client_id: "svccheck-post", client_secret: secret, token_endpoint_auth_method: "client_secret_post" },
  ].map((client) => ({ ...client, grant_types: ["client_credentials"], redirect_uris: [], response_types: [] })),
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
  },
  scopes: ["users:read"],
  ttl: { ClientCredentials: expiresIn },
});
provider.on("server_error", (ctx, error) => console.error(error));
const server = http.createServer(provider.callback());
server.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
});
