import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway certificate authority and one server certificate it signed (PEM). */
export interface TestCertificates {
  ca: string;
  key: string;
  cert: string;
}

/**
 * Generates, with the system's `openssl`, a CA and a server certificate for `names` (IP addresses
 * and DNS names) in a temporary directory that is removed again. Hearth trusts the CA through
 * createHearth's `network.ca`, not NODE_EXTRA_CA_CERTS: that variable is read only when a process
 * starts, and these servers run inside the test's own process.
 */
export function makeTestCertificates(names: string[] = ["127.0.0.1", "127.0.0.2", "localhost"]): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "hearth-tls-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  try {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=Hearth test CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    openssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=hearth-test-server",
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
    );
    const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    writeFileSync(join(dir, "ext.cnf"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    openssl(
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
      "-out",
      "server.pem",
    );
    return {
      ca: readFileSync(join(dir, "ca.pem"), "utf8"),
      key: readFileSync(join(dir, "server.key"), "utf8"),
      cert: readFileSync(join(dir, "server.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
