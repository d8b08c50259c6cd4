// One shadow sample: the primary request and its mirror, side by side, as stored and reported.

export interface ShadowSide {
  /** "<provider>/<model>" that answered, or was last tried; null if none was reached. */
  target: string | null;
  /** 200, or the status the side failed with. */
  status: number;
  latency_ms: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  /** Length of the whole generated text, however much of it `output` keeps. */
  output_chars: number;
  /** The generated text's start (shadow.keep_output_chars). */
  output: string;
  /** What went wrong, for a failed side: the error's message. */
  error: string | null;
}

export interface ShadowRecord {
  id: string;
  /** The mirrored model's name. */
  model: string;
  /** When the shadow call ended, ISO 8601. */
  time: string;
  /** The primary request's id (x-request-id). */
  request_id: string;
  /** Both sides answered, with the same generated text. */
  exact_match: boolean;
  primary: ShadowSide;
  shadow: ShadowSide;
}
