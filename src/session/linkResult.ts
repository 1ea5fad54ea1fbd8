/** What `PUT …/link` and `POST /sessions/link` answer. */
export interface LinkResult {
  conversation_id: string;
  previous: string | null;
  changed: boolean;
}

/**
 * Who may move a link: the API token (`PUT …/link`) may relink; the page's publishable key
 * (`POST /sessions/link`) may only set a session's first link.
 */
export type LinkPolicy = "relink" | "first-link-only";

/** A link refused by `first-link-only`: the session is linked to another conversation already. */
export interface AlreadyLinked {
  already_linked: true;
}
