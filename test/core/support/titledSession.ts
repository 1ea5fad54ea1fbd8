/**
 * What the real-core tests (lanes, replace, timeline) share: actions titled `t0`, `t1`, … so a
 * summary or a destination's text shows which actions it holds, a summariser that names every action
 * it covers, and the session timings of a deployment's defaults.
 */
import type { Summariser } from "../../../src/llm/types";
import type { ActionsPayload } from "../../../src/session/model";

/** Summaries that name every action they cover (rolling: the previous summary's too), so coverage is checkable. */
export const titles: Summariser = {
  name: "titles",
  extractive: true,
  summarise: async ({ actions, previousSummary }) => ({ kind: "done", text: [previousSummary ?? "", ...actions.map((a) => a.title)].join(" ").trim() }),
};

export const TIMINGS = { preLinkWindowMs: 120_000, idleMs: 30 * 60_000, retentionMs: 365 * 24 * 3_600_000 } as const;

/** One batch of session `s` of product `p`: actions `t{from}` … `t{from + count - 1}`. */
export function titledBatch(from: number, count: number, fields: { description?: string; timestampStart?: number } = {}): ActionsPayload {
  const actions = Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const t = `t${i}`;
    return {
      title: t,
      description: fields.description ?? t,
      canonical_url: "/p",
      index: fields.timestampStart === undefined ? 0 : i,
      type: "click",
      timestamp_start: fields.timestampStart === undefined ? 0 : fields.timestampStart + i,
      timestamp_end: 0,
      raw_url: "",
      session_id: null,
      user_id: null,
      email: null,
      conversation_id: null,
    };
  });
  return { product_id: "p", session_id: "s", user_id: null, email: null, conversation_id: null, forwarded_at: 0, actions };
}
