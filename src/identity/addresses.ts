// Client addresses: whether one is this machine, and whether one is inside a key's IP allowlist (CIDRs, IPv4 and
// IPv6). node:net's BlockList does the matching, including IPv4 clients seen as IPv4-mapped IPv6 (::ffff:10.0.0.1).

import { BlockList, isIP } from 'node:net';

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

const PREFIX = /^\d{1,3}$/;

function parseCidr(entry: string): Cidr | string {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return `'${entry}' is not an IP address or CIDR (expected e.g. 10.0.0.0/8, 203.0.113.7 or 2001:db8::/32)`;
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!PREFIX.test(prefixText) || prefix > max) return `'${entry}' has a prefix length outside 0-${max}`;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Why an allowlist entry is not a valid address or CIDR, or undefined when it is (for validating input). */
export function cidrProblem(entry: string): string | undefined {
  const parsed = parseCidr(entry);
  return typeof parsed === 'string' ? parsed : undefined;
}

export interface IpAllowlist {
  allows(ip: string): boolean;
}

/**
 * The addresses a key may be used from. Entries that do not parse match nothing, so a damaged list refuses rather
 * than admits (input is validated where keys are written, with cidrProblem).
 */
export function ipAllowlist(entries: readonly string[]): IpAllowlist {
  const list = new BlockList();
  for (const entry of entries) {
    const cidr = parseCidr(entry.trim());
    if (typeof cidr !== 'string') list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return {
    allows(ip) {
      const version = isIP(ip);
      return version !== 0 && list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
