/**
 * The Slack destination under faults, on the real core (node:sqlite) with the real destination and
 * pace against the emulator, in both delivery modes: every call may be lost after it landed, answered
 * 5xx, `internal_error` or 429. Three sessions share one channel (and its pace). Checked as a reader of
 * the channel would: append — each action posted raw once, a raw reply deleted only while a live
 * summary covers it, and at the end every action raw or covered; replace — one message per session
 * ever, no edit dropping a raw action its own summary does not cover, and at the end every action shown.
 */
import { describe, expect, it } from "vitest";
import { parseCore, readSlackSettings } from "../../src/config";
import { IntervalPacer } from "../../src/destinations/rateLimit";
import { createSlackDestination } from "../../src/destinations/slack";
import type { Summariser } from "../../src/llm/types";
import { migrate } from "../../src/session/migrations";
import { SessionCore } from "../../src/session/sessionCore";
import { SessionStore } from "../../src/session/sessionStore";
import { BOT_ID, SLACK_TOKEN, SlackEmulator, type SlackFault } from "../helpers/slackEmulator";
import { createNodeStorage } from "./support/nodeStorage";
import { rng } from "./support/simulation";

const CHANNEL = "C0FAULTS";
/** Summaries name every action they cover (rolling: the previous summary's too), so coverage is checkable. */
const titles: Summariser = {
  name: "titles",
  extractive: true,
  summarise: async ({ actions, previousSummary }) => ({ kind: "done", text: [previousSummary ?? "", ...actions.map((a) => a.title)].join(" ").trim() }),
};
const tokens = (text: string) => new Set(text.match(/\btk\d+x\d+\b/g) ?? []);
const isSummary = (text: string) => /^\*(Session summary|Summary)\*/m.test(text);

function run(seed: number, delivery: "append" | "replace") {
  const random = rng(seed);
  let now = 1_700_000_000_000;
  const emulator = new SlackEmulator({ now: () => now });
  emulator.createChannel({ id: CHANNEL });
  const violations: string[] = [];
  const pick = (): SlackFault | null => {
    const r = random();
    return r < 0.1 ? { kind: "lose_response" } : r < 0.15 ? { kind: "server_error" } : r < 0.2 ? { kind: "error", code: "internal_error" } : r < 0.3 ? { kind: "rate_limited" } : null;
  };
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const method = new URL(request.url).pathname.split("/").pop()!;
    const body = request.method === "POST" ? ((await request.clone().json()) as { ts?: string; text?: string }) : {};
    if (method === "chat.delete") {
      // Summary first: a raw reply goes only while a live summary in its thread covers every action in it.
      const target = emulator.posted.find((p) => p.message.ts === body.ts)?.message;
      if (target && !isSummary(target.text) && target.thread_ts) {
        const live = emulator.replies(CHANNEL, target.thread_ts).filter((m) => m.bot_id === BOT_ID && isSummary(m.text));
        const covered = new Set(live.flatMap((m) => [...tokens(m.text)]));
        const bare = [...tokens(target.text)].filter((t) => !covered.has(t));
        if (bare.length) violations.push(`deleted ${bare.join(",")} before a summary covered them`);
      }
    }
    if (method === "chat.update") {
      const before = emulator.messages(CHANNEL).find((m) => m.ts === body.ts);
      const after = tokens(body.text ?? "");
      const raw = before ? [...tokens(before.text.split("*Recent activity*")[1] ?? "")] : [];
      const dropped = raw.filter((t) => !after.has(t));
      if (dropped.length) violations.push(`an edit dropped ${dropped.join(",")}`);
    }
    const fault = pick();
    if (fault) emulator.inject(fault, { method });
    return emulator.fetch(request);
  };
  const settings = readSlackSettings({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_CHANNEL: CHANNEL, SLACK_API_BASE: "https://slack.test/api", DELIVERY: delivery });
  const pacer = new IntervalPacer();
  const sessions = ["a", "b", "c"].map((id) => {
    const storage = createNodeStorage();
    migrate(storage);
    const core = new SessionCore(
      {
        store: new SessionStore(storage),
        config: parseCore({ SUMMARY_THRESHOLD: "3", STEP_MAX_ATTEMPTS: "100" }),
        laneEntries: ["slack"],
        destination: () => createSlackDestination(settings, { fetch, now: () => now, timeoutMs: 20 }, { pacer }),
        summariser: titles,
        now: () => now,
        random,
        log: () => {},
      },
      { preLinkWindowMs: 120_000, idleMs: 30 * 60_000, retentionMs: 365 * 24 * 3_600_000 },
    );
    return { id, core, sent: [] as string[] };
  });
  return {
    emulator,
    violations,
    sessions,
    async drive(bursts: number) {
      for (let b = 0; b < bursts; b++) {
        const s = sessions[Math.floor(random() * sessions.length)]!;
        const actions = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
          const t = `tk${seed}x${s.id.charCodeAt(0)}${s.sent.length}`;
          s.sent.push(t);
          return { title: t, description: t, canonical_url: "/p", index: 0, type: "click", timestamp_start: 0, timestamp_end: 0, raw_url: "", session_id: null, user_id: null, email: null, conversation_id: null };
        });
        s.core.ingest({ product_id: "p", session_id: s.id, user_id: null, email: null, conversation_id: null, forwarded_at: 0, actions }, { kind: "content", key: `k${b}` }, now);
        await this.settle();
      }
    },
    async settle() {
      for (let i = 0; i < 400; i++) {
        for (const s of sessions) await s.core.drain(20);
        // Over backoffs and the pace, not to the idle close (30 min).
        const next = sessions.map((s) => s.core.nextAlarm(now)).filter((t): t is number => t !== null && t < now + 20 * 60_000);
        if (next.length === 0) return;
        now = Math.max(now + 1, Math.min(...next));
      }
    },
  };
}

describe.each(["append", "replace"] as const)("Slack under faults, DELIVERY=%s", (delivery) => {
  it("20 seeds × 3 sessions on one channel: zero violations, every action at Slack", { timeout: 60_000 }, async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = run(seed, delivery);
      await sim.drive(15);
      await sim.settle();
      expect(sim.violations, `seed ${seed}`).toEqual([]);
      const ours = sim.emulator.posted.filter((p) => p.message.bot_id === BOT_ID).map((p) => p.message);
      const live = sim.emulator.messages(CHANNEL).flatMap((m) => [m, ...sim.emulator.replies(CHANNEL, m.ts)]);
      for (const s of sim.sessions) {
        const mine = (text: string) => [...tokens(text)].some((t) => s.sent.includes(t));
        if (delivery === "append") {
          const raw = ours.filter((m) => !isSummary(m.text) && mine(m.text)).flatMap((m) => [...tokens(m.text)]);
          expect(raw.filter((t, i) => raw.indexOf(t) !== i), `seed ${seed} ${s.id}: posted raw twice`).toEqual([]);
          expect(ours.filter((m) => m.text.startsWith("*Context Relay*") && m.text.includes(`session ${s.id} `)), `seed ${seed} ${s.id}: one thread`).toHaveLength(1);
        } else {
          expect(ours.filter((m) => m.text.includes(`session ${s.id} `)), `seed ${seed} ${s.id}: one message`).toHaveLength(1);
        }
        const shown = new Set(live.filter((m) => mine(m.text)).flatMap((m) => [...tokens(m.text)]));
        expect(s.sent.filter((t) => !shown.has(t)), `seed ${seed} ${s.id}: missing at Slack`).toEqual([]);
      }
    }
  });
});
