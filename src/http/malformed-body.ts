/**
 * A JSON body that could not be parsed, kept as the request's body instead of failing the request
 * at once: the router refuses it after the credential was checked, so that a bad credential wins
 * and the refusal is audited like every other (see `Router.add`).
 */
export class MalformedBody {
  /** The sentence to answer with, e.g. `malformed JSON body: Unexpected token …`. */
  readonly message: string;

  constructor(message: string) {
    this.message = message;
  }
}
