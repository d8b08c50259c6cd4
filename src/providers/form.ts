// multipart/form-data encoding (RFC 7578) of a form the gateway forwards: the client's upload, re-encoded once its
// model field is replaced. Built in memory because the form is already there whole (it is capped by server.body_limit)
// and a failover to the next target sends the same bytes again.

import { randomBytes } from 'node:crypto';
import type { FormField } from './types.ts';

/** Quotes, CR and LF would end a quoted name early; they are percent-encoded, as browsers do. */
function quoted(name: string): string {
  return `"${name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;
}

export function encodeForm(fields: FormField[]): { contentType: string; body: Buffer } {
  // 24 random bytes make a boundary that no upload contains in practice, so the parts are never scanned for it.
  const boundary = `----switchboard${randomBytes(24).toString('hex')}`;
  const pieces: Buffer[] = [];
  for (const field of fields) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(field.name)}`;
    if ('data' in field) {
      head += `; filename=${quoted(field.filename)}\r\nContent-Type: ${field.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`;
      pieces.push(Buffer.from(head), Buffer.from(field.data.buffer, field.data.byteOffset, field.data.byteLength), Buffer.from('\r\n'));
    } else {
      pieces.push(Buffer.from(`${head}\r\n\r\n${field.value}\r\n`));
    }
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(pieces) };
}
