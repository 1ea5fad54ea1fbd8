/**
 * Slack Web API calls per K actions, on the real core (node:sqlite) and the real Slack destination
 * against the emulator, in both delivery modes: the figures the README quotes. K = 10 in bursts of 5
 * (two raw notes per window), the rolling mode, 40 actions, the clock stepped over the channel's pace.
 */
import { describe, expect, it } from "vitest";
import { parseCore, readSlackSettings } from "../../src/config";
import { IntervalPacer } from "../../src/destinations/rateLimit";
import { createSlackDestination } from "../../src/destinations/slack";
import type { Summariser } from "../../src/llm/types";
import { migrate } from "../../src/session/migrations";
import { SessionCore } from "../../src/session/sessionCore";
import { SessionStore } from "../../src/session/sessionStore";
import { SLACK_TOKEN, SlackEmulator } from "../helpers/slackEmulator";
import { createNodeStorage } from "./support/nodeStorage";

const summariser: Summariser = {
  name: "fixed",
  extractive: false,
  summarise: async ({ actions }) => ({ kind: "done", text: `The user did ${actions.length} things.` }),
};

async function callsFor(delivery: "append" | "replace"): Promise<Record<string, number>> {
  let now = 1_700_000_000_000;
  const emulator = new SlackEmulator({ now: () => now });
  const channel = emulator.createChannel();
  const settings = readSlackSettings({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_CHANNEL: channel, SLACK_API_BASE: "https://slack.test/api", DELIVERY: delivery });
  const destination = createSlackDestination(settings, { fetch: emulator.fetch, now: () => now, timeoutMs: 1_000 }, { pacer: new IntervalPacer() });
  const storage = createNodeStorage();
  migrate(storage);
  const core = new SessionCore(
    {
      store: new SessionStore(storage),
      config: parseCore({ SUMMARY_THRESHOLD: "10" }),
      laneEntries: ["slack"],
      destination: () => destination,
      summariser,
      now: () => now,
      random: () => 0.5,
      log: () => {},
    },
    { preLinkWindowMs: 120_000, idleMs: 30 * 60_000, retentionMs: 7 * 24 * 3_600_000 },
  );
  for (let n = 0; n < 40; n += 5) {
    const actions = Array.from({ length: 5 }, (_, i) => ({ title: `a${n + i}`, description: `did ${n + i}`, canonical_url: "/p", index: i, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null }));
    core.ingest({ product_id: "p", session_id: "s", user_id: "u", email: null, conversation_id: null, forwarded_at: 0, actions }, { kind: "content", key: `k${n}` }, now);
    for (let i = 0; i < 50; i++) {
      await core.drain(50);
      const at = core.nextAlarm(now);
      if (at === null || at > now + 60_000) break;
      now = Math.max(now + 1, at);
    }
  }
  const counts: Record<string, number> = {};
  for (const c of emulator.calls) counts[c.method] = (counts[c.method] ?? 0) + 1;
  return counts;
}

describe("Slack calls per K actions", () => {
  it("append: per window two raw replies, one summary, three deletes (two raw, the superseded summary); one header per session", async () => {
    // 4 windows: 8 raw + 4 summaries + 1 header posted; 8 raw and 3 superseded summaries deleted.
    expect(await callsFor("append")).toEqual({ "chat.postMessage": 13, "chat.delete": 11 });
  });

  it("replace: per window three edits of one message (two bursts, one summary), nothing deleted", async () => {
    expect(await callsFor("replace")).toEqual({ "chat.postMessage": 1, "chat.update": 11 });
  });
});
