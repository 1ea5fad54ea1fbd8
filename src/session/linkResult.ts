/** What `PUT …/link` and `POST /sessions/link` answer. */
export interface LinkResult {
  conversation_id: string;
  previous: string | null;
  changed: boolean;
}
