/**
 * A request the gateway refuses or cannot serve, with the HTTP status to answer and a
 * message that names the problem (it is sent to the client as `{ "error": message }`).
 */
export class GatewayRequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayRequestError';
  }
}
