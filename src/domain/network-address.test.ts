import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyAddress, literalAddressProblem, outboundUrlProblem, parseAddress } from "./network-address.ts";

test("every special-purpose address, in every spelling, classifies as not public", () => {
  const cases: [string, string][] = [
    ["127.0.0.1", "loopback"],
    ["2130706433", "loopback"], // decimal
    ["0x7f.1", "loopback"], // hex, short
    ["127.1", "loopback"], // short
    ["0177.0.0.1", "loopback"], // octal
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "loopback"], // IPv4-mapped IPv6
    ["::ffff:7f00:1", "loopback"],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrierGradeNat"],
    ["100.100.100.200", "carrierGradeNat"], // a cloud metadata service inside CGNAT
    ["169.254.169.254", "linkLocal"], // the cloud metadata service
    ["::ffff:169.254.169.254", "linkLocal"],
    ["64:ff9b::a9fe:a9fe", "linkLocal"], // NAT64 of 169.254.169.254
    ["2002:a9fe:a9fe::1", "linkLocal"], // 6to4 of 169.254.169.254
    ["fd00::1", "uniqueLocal"],
    ["fd00:ec2::254", "uniqueLocal"], // the IPv6 cloud metadata service
    ["fe80::1", "linkLocal"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["192.0.0.192", "reserved"],
    ["198.18.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["::7f00:1", "reserved"], // IPv4-compatible IPv6, outside global unicast
    ["not-an-address", "invalid"],
    ["08.1.1.1", "invalid"],
  ];
  for (const [address, range] of cases) assert.equal(classifyAddress(address), range, address);
});

test("ordinary public unicast addresses classify as public", () => {
  for (const address of [
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ]) {
    assert.equal(classifyAddress(address), "public", address);
  }
});

test("host names are not addresses", () => {
  for (const host of ["localhost", "idp.example.com", "127.0.0.1.nip.io", "0x7f.example"]) assert.equal(parseAddress(host), undefined, host);
});

test("a literal private address in a URL is refused unless the operator allows private networks", () => {
  // The URL parser already turns decimal, hex, short and octal IPv4 into dotted form.
  for (const url of [
    "http://127.0.0.1:5556/internal/x",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://[::ffff:7f00:1]/",
    "https://169.254.169.254/latest/meta-data",
  ]) {
    assert.match(
      literalAddressProblem(new URL(url), false) ?? "",
      /address; Hearth reaches only public addresses unless its operator sets HEARTH_ALLOW_PRIVATE_NETWORKS=true$/,
      url,
    );
    assert.equal(literalAddressProblem(new URL(url), true), undefined, url);
  }
  assert.equal(literalAddressProblem(new URL("http://localhost:5556/"), false), undefined, "host names are judged when connecting");
  assert.equal(literalAddressProblem(new URL("https://8.8.8.8/"), false), undefined);
});

test("discovered endpoints must be https, plain http only to a private target with the operator switch", () => {
  const cases: [string, boolean, boolean][] = [
    ["https://accounts.google.com/o/oauth2/v2/auth", false, true],
    ["https://www.googleapis.com/oauth2/v3/certs", false, true],
    ["http://idp.example.com/keys", false, false],
    ["http://idp.example.com/keys", true, false],
    ["http://127.0.0.1:9/keys", false, false],
    ["http://127.0.0.1:9/keys", true, true],
    ["http://localhost:9/keys", false, false],
    ["http://localhost:9/keys", true, true],
    ["https://10.1.2.3/keys", false, false],
    ["https://10.1.2.3/keys", true, true],
    ["http://8.8.8.8/keys", true, false],
    ["ftp://idp.example.com/keys", true, false],
  ];
  for (const [url, allowPrivate, allowed] of cases) {
    assert.equal(outboundUrlProblem(new URL(url), allowPrivate) === undefined, allowed, `${url} (allowPrivate ${allowPrivate})`);
  }
  const seam = (a: string) => (a === "127.0.0.1" ? "public" : classifyAddress(a));
  assert.equal(outboundUrlProblem(new URL("https://127.0.0.1:8443/"), false, seam), undefined, "the classifier can be replaced");
});
