// Loaded (--import) into the Portkey process only. Portkey 1.15.2 appends x-portkey-* headers to the Response it got
// from fetch, whose headers the fetch spec makes immutable, so every streaming request fails with "TypeError: immutable"
// (Portkey-AI/gateway#1389; pinning @hono/node-server to 1.14.2 does not help). Copying each upstream Response once
// makes its headers mutable again, at the cost of one extra Response object per request.

const nativeFetch = globalThis.fetch;
const NativeResponse = globalThis.Response;

globalThis.fetch = async (input, init) => {
  const response = await nativeFetch(input, init);
  return new NativeResponse(response.body, response);
};
