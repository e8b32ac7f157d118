/**
 * A minimal protobuf wire codec: just what the KCL engine's messages need (varints, length-delimited fields).
 * Message layouts live in `messages.ts`; field numbers come from kcl-lang/lib's `spec.proto`.
 */

/** Builds one protobuf message. Default values (empty, false, 0) are omitted, as proto3 does. */
export class ProtoWriter {
  readonly #chunks: Buffer[] = [];

  /** Appends a string field (wire type 2). */
  string(field: number, value: string | undefined): this {
    if (value) this.bytes(field, Buffer.from(value, 'utf8'));
    return this;
  }

  /** Appends each string as a repeated field. */
  strings(field: number, values: readonly string[] | undefined): this {
    for (const v of values ?? []) this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }

  /** Appends a length-delimited field, even when empty. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(value.length);
    this.#chunks.push(Buffer.from(value));
    return this;
  }

  /** Appends an embedded message field. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** Appends a bool field (wire type 0) when true. */
  bool(field: number, value: boolean | undefined): this {
    if (value) {
      this.#tag(field, 0);
      this.#varint(1);
    }
    return this;
  }

  /** Appends a non-negative integer field (wire type 0) when non-zero. */
  uint(field: number, value: number | undefined): this {
    if (value) {
      this.#tag(field, 0);
      this.#varint(value);
    }
    return this;
  }

  /** The encoded message. */
  finish(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  #varint(value: number): void {
    const out: number[] = [];
    let v = value;
    while (v > 0x7f) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    this.#chunks.push(Buffer.from(out));
  }
}

/** The decoded fields of one message: field number → values in order (numbers for varints, buffers otherwise). */
export type ProtoFields = Map<number, Array<number | Buffer>>;

/** Decodes one message into its raw fields. Throws on truncated or unsupported input. */
export function decodeFields(buf: Uint8Array): ProtoFields {
  const data = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fields: ProtoFields = new Map();
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (pos >= data.length) throw new Error('protobuf: truncated varint');
      const b = data[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  };
  while (pos < data.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    let value: number | Buffer;
    if (wireType === 0) value = varint();
    else if (wireType === 2) {
      const len = varint();
      if (pos + len > data.length) throw new Error('protobuf: truncated field');
      value = data.subarray(pos, pos + len);
      pos += len;
    } else if (wireType === 1) {
      value = data.subarray(pos, pos + 8);
      pos += 8;
    } else if (wireType === 5) {
      value = data.subarray(pos, pos + 4);
      pos += 4;
    } else throw new Error(`protobuf: unsupported wire type ${wireType}`);
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

/** Reads the last value of a string field ('' when absent). */
export function str(fields: ProtoFields, field: number): string {
  const v = fields.get(field)?.at(-1);
  return Buffer.isBuffer(v) ? v.toString('utf8') : '';
}

/** Reads every value of a repeated string field. */
export function strs(fields: ProtoFields, field: number): string[] {
  return (fields.get(field) ?? []).filter(Buffer.isBuffer).map((b) => b.toString('utf8'));
}

/** Reads the last value of a varint field (0 when absent). */
export function num(fields: ProtoFields, field: number): number {
  const v = fields.get(field)?.at(-1);
  return typeof v === 'number' ? v : 0;
}

/** Decodes every value of a repeated embedded-message field. */
export function messages(fields: ProtoFields, field: number): ProtoFields[] {
  return (fields.get(field) ?? []).filter(Buffer.isBuffer).map((b) => decodeFields(b));
}
