// Loaded (--import) into the Portkey process only. Portkey 1.15.2 appends x-portkey-* headers to the Response it got
// from fetch, whose headers the fetch spec makes immutable. Under @hono/node-server <= 1.14.2, the version Portkey was
// built against, that worked because hono copied the headers; npm resolves 1.19 here, and every streaming request then
// fails with "TypeError: immutable" (Portkey-AI/gateway#1389). Copying the headers once per upstream response restores
// the copy the older hono made, at the cost of one extra Response object per request.

const nativeFetch = globalThis.fetch;
const NativeResponse = globalThis.Response;

globalThis.fetch = async (input, init) => {
  const response = await nativeFetch(input, init);
  return new NativeResponse(response.body, response);
};
