using Acme.Gateway.ApiKey;
using Gateway.Host;

// The whole custom gateway: Envoy's command line (-c, --mode validate, ...) with acme.filters.http.api_key registered.
return await GatewayProgram.RunAsync(args, types => types.AddHttpFilter(new ApiKeyFilterFactory()));
