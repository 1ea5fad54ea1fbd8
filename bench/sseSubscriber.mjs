// One SSE subscriber of GET /stream/:product_id, as the SDK's AsyncConnectorClient reads it: it
// reads the whole time, counts frames by event, and calls `onProbe(title)` for each probe batch's frame.
import { StringDecoder } from "node:string_decoder";
import { AUTH, HOST } from "./constants.mjs";

/** Opens the stream; resolves once the response headers are in (the subscriber is connected). */
export async function subscribe(port, product, onProbe) {
  const res = await fetch(`http://${HOST}:${port}/stream/${product}`, { headers: { accept: "text/event-stream", ...AUTH } });
  if (res.status !== 200) throw new Error(`GET /stream/${product} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const counts = { message: 0, heartbeat: 0, dropped: 0, missed: 0 };
  const reader = res.body.getReader();
  const reading = (async () => {
    const decoder = new StringDecoder("utf8");
    let rest = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += decoder.write(value);
        let end;
        while ((end = rest.indexOf("\n\n")) >= 0) {
          const frame = rest.slice(0, end);
          rest = rest.slice(end + 2);
          const event = frame.startsWith("event: ") ? frame.slice(7, frame.indexOf("\n")) : "message";
          counts[event] = (counts[event] ?? 0) + 1;
          // Probe batches name themselves in their session id: only their frames are parsed.
          if (event === "message" && onProbe && frame.includes('"session_id":"probe-')) {
            const payload = JSON.parse(frame.slice(frame.indexOf("data: ") + 6));
            if (payload.type === "actions") onProbe(payload.actions[0].title);
          }
        }
      }
    } catch {
      // Cancelled by close().
    }
  })();
  return {
    counts,
    async close() {
      await reader.cancel().catch(() => {});
      await reading;
    },
  };
}
