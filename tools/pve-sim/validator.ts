// Parameter validation driven by the schema file, a port of PVE::JSONSchema's check_object /
// check_prop: the same order of checks (type, format, pattern, length, range, enum), the same
// messages and the same error keys, so a 400 from the simulator reads like one from a node.
import { checkNamedFormat } from './formats.js';
import { MalformedPropertyString, parsePropertyString } from './property-string.js';
import type { ParamsSchema, PropSchema } from './schema.js';

export type ParamValue = string | number | boolean | null | undefined | ParamValue[];
export type Errors = Record<string, string>;

/** How many of each indexed key exist on a real node (`net0`..`net31`, `mp0`..`mp255`). */
const INDEX_LIMITS: Record<string, number> = { net: 32, mp: 256, unused: 256, dev: 256 };

const patternCache = new Map<string, RegExp>();

/** Compile a Perl-stringified pattern (`(?^:...)`) as an anchored JS RegExp, like `m/^$pattern$/`. */
export function compilePattern(p: string): RegExp {
  let re = patternCache.get(p);
  if (!re) {
    // Perl-only syntax: `(?^:` (stringified qr//), atomic `(?>`, `\0`, and `{,n}`.
    const js = p.replace(/\(\?\^:/g, '(?:').replace(/\(\?>/g, '(?:').replace(/\\0/g, '\\x00').replace(/\{,(\d+)\}/g, '{0,$1}');
    re = new RegExp(`^(?:${js})$`);
    patternCache.set(p, re);
  }
  return re;
}

function addError(errors: Errors, path: string, msg: string): void {
  const key = path || '_root';
  errors[key] = errors[key] ? `${errors[key]}\\n${msg}` : msg;
}

const isNumber = (v: string) => /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v);
const isInteger = (v: string) => /^[+-]?\d+$/.test(v);

/** Proxmox's parse_boolean, used inside property strings (`firewall=yes` is fine there). */
function parseBoolean(v: string): string {
  if (/^(1|on|yes|true)$/i.test(v)) return '1';
  if (/^(0|off|no|false)$/i.test(v)) return '0';
  return v;
}

/** Type check; returns the value as text for the later checks, or null after adding an error. */
function checkType(path: string, type: PropSchema['type'], value: ParamValue, errors: Errors): string | null {
  if (Array.isArray(value)) {
    if (type === 'array') return '';
    addError(errors, path, `type check ('${type}') failed - got ARRAY`);
    return null;
  }
  if (typeof value === 'boolean') {
    if (type === 'boolean') return value ? '1' : '0';
    value = value ? '1' : '';
  }
  const v = String(value);
  if (type === 'boolean' && v !== '1' && v !== '0') {
    addError(errors, path, `type check ('boolean') failed - got '${v}'`);
    return null;
  }
  if ((type === 'integer' && !isInteger(v)) || (type === 'number' && !isNumber(v))) {
    addError(errors, path, `type check ('${type}') failed - got '${v}'`);
    return null;
  }
  return v;
}

/** Validate a property string (`net0`) against its format object; returns the error text or null. */
function checkPropertyString(format: Record<string, PropSchema>, value: string, path: string): string | null {
  const defaultKey = Object.keys(format).find((k) => format[k].default_key);
  let parsed: Record<string, string>;
  try {
    parsed = parsePropertyString(value, { defaultKey, isKey: (k) => Object.hasOwn(format, k) });
  } catch (e) {
    if (e instanceof MalformedPropertyString) return e.message;
    throw e;
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (format[k].type === 'boolean') parsed[k] = parseBoolean(v);
  }
  const inner: Errors = {};
  checkObject(path, { additionalProperties: 0, properties: format }, parsed, inner);
  if (!Object.keys(inner).length) return null;
  return 'format error\n' + Object.entries(inner).map(([k, m]) => `${k}: ${m}\n`).join('');
}

/** check_prop for one value. */
export function checkProp(value: ParamValue, schema: PropSchema, path: string, errors: Errors): void {
  if (value === undefined || value === null) {
    if (!schema.optional) addError(errors, path, 'property is missing and it is not optional');
    return;
  }
  const v = checkType(path, schema.type, value, errors);
  if (v === null || Array.isArray(value)) return;
  if (schema.format) {
    const err = typeof schema.format === 'string'
      ? checkNamedFormat(schema.format, v)
      : checkPropertyString(schema.format, v, path);
    if (err) return addError(errors, path, `invalid format - ${err}`);
  }
  if (schema.pattern && !compilePattern(schema.pattern).test(v)) {
    return addError(errors, path, 'value does not match the regex pattern');
  }
  if (schema.maxLength !== undefined && v.length > schema.maxLength) {
    return addError(errors, path, `value may only be ${schema.maxLength} characters long`);
  }
  if (schema.minLength !== undefined && v.length < schema.minLength) {
    return addError(errors, path, `value must be at least ${schema.minLength} characters long`);
  }
  if (isNumber(v)) {
    if (schema.maximum !== undefined && Number(v) > Number(schema.maximum)) {
      return addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
    }
    if (schema.minimum !== undefined && Number(v) < Number(schema.minimum)) {
      return addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
    }
  }
  if (schema.enum && !schema.enum.includes(v)) {
    addError(errors, path, `value '${v}' does not have a value in the enumeration '${schema.enum.join(', ')}'`);
  }
}

/** The schema entry for a key, resolving indexed keys (`net3` → `net[n]`). */
export function schemaFor(props: Record<string, PropSchema>, key: string): PropSchema | undefined {
  if (Object.hasOwn(props, key) && !key.endsWith('[n]')) return props[key];
  const m = /^([a-z]+)(\d+)$/.exec(key);
  if (!m || (m[2].length > 1 && m[2].startsWith('0'))) return undefined;
  const indexed = props[`${m[1]}[n]`];
  if (!indexed || Number(m[2]) >= (INDEX_LIMITS[m[1]] ?? 256)) return undefined;
  return indexed;
}

/** check_object: required keys, each value, `requires`, and unknown keys when not allowed. */
export function checkObject(path: string, schema: ParamsSchema, value: Record<string, ParamValue>, errors: Errors): void {
  const props = schema.properties ?? {};
  const join = (k: string) => (path ? `${path}.${k}` : k);
  for (const k of Object.keys(props)) {
    if (k.endsWith('[n]')) continue;
    checkProp(value[k], props[k], join(k), errors);
  }
  for (const k of Object.keys(value)) {
    const sub = schemaFor(props, k);
    if (sub) {
      if (!Object.hasOwn(props, k)) checkProp(value[k], sub, join(k), errors);
      if (sub.requires && value[sub.requires] === undefined) {
        addError(errors, join(sub.requires), `missing property - '${join(k)}' requires this property`);
      }
      continue;
    }
    if (!schema.additionalProperties) {
      addError(errors, join(k), 'property is not defined in schema and the schema does not allow additional properties');
    }
  }
}

/**
 * Validate request parameters against a method's `parameters`. Returns the errors map (empty
 * when valid), which the server sends as a 400 "Parameter verification failed.".
 */
export function validateParams(schema: ParamsSchema, params: Record<string, ParamValue>): Errors {
  const errors: Errors = {};
  checkObject('', schema, params, errors);
  return errors;
}
