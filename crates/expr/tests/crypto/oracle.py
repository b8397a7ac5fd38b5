#!/usr/bin/env python3
"""The C# oracle of crates/expr/tests/crypto.rs: compiles every line of cases.txt as C# with Mono
(`mcs`) and writes what each prints to expected.txt, one line per case.

Run from this directory: `python3 oracle.py` (needs mono-mcs, mono-runtime). The placeholders
($D, $K16, $KEY …) are substituted here and in crypto.rs alike (`substitute`). Lines starting
with `{` are statement blocks (gatehouse's `@{ … }`), run here as a `Func<object>`.

APIM's `byte[].Encrypt(…)`/`Decrypt(…)` extensions do not exist outside APIM: the `ApimExtensions`
class below models them as APIM's documentation describes (the named algorithm, or the one given,
in CBC mode with PKCS7 padding unless the algorithm object says otherwise)."""
import pathlib, subprocess, tempfile

HERE = pathlib.Path(__file__).parent

def substitutions():
    return {
        "$KEY": '"' + (HERE / "rsa1024.xml").read_text().strip() + '"',
        "$CERT": '"' + (HERE / "cert.b64").read_text().strip() + '"',
        "$SIG": '"' + (HERE / "sig.b64").read_text().strip() + '"',
        "$K16": 'Encoding.UTF8.GetBytes("0123456789abcdef")',
        "$K24": 'Encoding.UTF8.GetBytes("0123456789abcdef01234567")',
        "$K32": 'Encoding.UTF8.GetBytes("0123456789abcdef0123456789abcdef")',
        "$IV": 'Encoding.UTF8.GetBytes("fedcba9876543210")',
        "$D": 'Encoding.UTF8.GetBytes("The quick brown fox")',
    }

def substitute(line):
    for k, v in substitutions().items():
        line = line.replace(k, v)
    return line

HEADER = """
using System; using System.Linq; using System.Text;
using System.Security.Cryptography; using System.Security.Cryptography.X509Certificates;
static class ApimExtensions {
    static SymmetricAlgorithm Named(string alg) {
        if (alg == "Aes") return Aes.Create();
        if (alg == "Rijndael") return Rijndael.Create();
        throw new ArgumentException("Unsupported symmetric algorithm '" + alg + "'.");
    }
    static byte[] Run(SymmetricAlgorithm a, byte[] key, byte[] iv, bool enc, byte[] d) {
        var t = enc ? a.CreateEncryptor(key ?? a.Key, iv ?? a.IV) : a.CreateDecryptor(key ?? a.Key, iv ?? a.IV);
        return t.TransformFinalBlock(d, 0, d.Length);
    }
    public static byte[] Encrypt(this byte[] d, string alg, byte[] key, byte[] iv) { return Run(Named(alg), key, iv, true, d); }
    public static byte[] Decrypt(this byte[] d, string alg, byte[] key, byte[] iv) { return Run(Named(alg), key, iv, false, d); }
    public static byte[] Encrypt(this byte[] d, SymmetricAlgorithm a) { return Run(a, null, null, true, d); }
    public static byte[] Decrypt(this byte[] d, SymmetricAlgorithm a) { return Run(a, null, null, false, d); }
    public static byte[] Encrypt(this byte[] d, SymmetricAlgorithm a, byte[] key, byte[] iv) { return Run(a, key, iv, true, d); }
    public static byte[] Decrypt(this byte[] d, SymmetricAlgorithm a, byte[] key, byte[] iv) { return Run(a, key, iv, false, d); }
}
static class P {
    static string Show(object o) {
        if (o == null) return "null";
        var b = o as byte[];
        if (b != null) return "bytes:" + BitConverter.ToString(b);
        return o.ToString();
    }
    static void Case(Func<object> f) {
        try { Console.WriteLine(Show(f())); }
        catch (Exception e) { Console.WriteLine("!" + e.GetType().Name); }
    }
    static void Main() {
"""

def main():
    lines = [l for l in (HERE / "cases.txt").read_text().splitlines() if l.strip()]
    body = []
    for l in lines:
        s = substitute(l)
        body.append(f"        Case(() => {s});" if s.startswith("{") else f"        Case(() => (object)({s}));")
    src = HEADER + "\n".join(body) + "\n    }\n}\n"
    with tempfile.TemporaryDirectory() as d:
        cs, exe = pathlib.Path(d) / "oracle.cs", pathlib.Path(d) / "oracle.exe"
        cs.write_text(src)
        subprocess.run(["mcs", "-nowarn:618,612", "-r:System.Core.dll", f"-out:{exe}", str(cs)], check=True)
        out = subprocess.run(["mono", str(exe)], check=True, capture_output=True).stdout.decode()
    (HERE / "expected.txt").write_text(out, newline="")
    print(f"{len(lines)} cases, {len(out.splitlines())} results")

if __name__ == "__main__":
    main()
