#!/usr/bin/env python3
"""Rebuild the FAQ corpus sites from Debian packages.

Reads manifest.json (same data as manifest.yaml) next to this script, then:
  1. downloads each package at the exact recorded version with `apt-get download`
     (falls back to the current version, with a warning, when that version is gone),
  2. unpacks each .deb with `dpkg-deb -x`,
  3. rebuilds <out>/sites/<site_id>/ from scratch: every recorded file is copied
     from the unpacked package (symlinks followed inside the package tree),
     gunzipped when its original name ends in .gz, and written under the
     recorded site-relative path (e.g. FAQ.gz -> FAQ.txt).

Standard library only.  Usage:
    python bench/data/faqs/fetch.py [--out /work/faqcorpus] [--only ID ...]
"""
import argparse
import glob
import gzip
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def deb_glob(debdir, pkg, version):
    ver = version.split(":", 1)[1] if ":" in version else version
    pats = [
        os.path.join(debdir, f"{pkg}_{ver}_*.deb"),
        os.path.join(debdir, "{}_{}_*.deb".format(pkg, version.replace(":", "%3a"))),
    ]
    for p in pats:
        hits = sorted(glob.glob(p))
        if hits:
            return hits[0]
    return None


def deb_version(path):
    out = subprocess.run(["dpkg-deb", "-f", path, "Version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def download(debdir, pkg, version):
    """Return (path_to_deb, version_obtained)."""
    os.makedirs(debdir, exist_ok=True)
    hit = deb_glob(debdir, pkg, version)
    if hit:
        return hit, version
    r = subprocess.run(["apt-get", "download", f"{pkg}={version}"], cwd=debdir,
                       capture_output=True, text=True)
    hit = deb_glob(debdir, pkg, version)
    if r.returncode == 0 and hit:
        return hit, version
    reason = (r.stderr or "").strip().splitlines()[-1:] or "?"
    print(f"WARNING: {pkg}={version} not available ({reason}); falling back to the current version", file=sys.stderr)
    before = set(glob.glob(os.path.join(debdir, f"{pkg}_*.deb")))
    subprocess.run(["apt-get", "download", pkg], cwd=debdir, check=True)
    after = set(glob.glob(os.path.join(debdir, f"{pkg}_*.deb")))
    new = sorted(after - before) or sorted(after)
    path = new[-1]
    got = deb_version(path)
    print(f"WARNING: using {pkg} {got} instead of {version}", file=sys.stderr)
    return path, got


def resolve(root, abspath, depth=0):
    """Map an absolute path inside the package to a real file under root, following symlinks."""
    if depth > 20:
        raise RuntimeError(f"symlink loop at {abspath}")
    parts = abspath.strip("/").split("/")
    cur = root
    for i, part in enumerate(parts):
        nxt = os.path.join(cur, part)
        if os.path.islink(nxt):
            target = os.readlink(nxt)
            inside = "/" + os.path.relpath(cur, root) if cur != root else "/"
            if target.startswith("/"):
                newabs = target
            else:
                newabs = os.path.normpath(os.path.join(inside, target))
            rest = parts[i + 1:]
            newabs = "/".join([newabs.rstrip("/")] + rest) if rest else newabs
            return resolve(root, newabs, depth + 1)
        cur = nxt
    return cur


def read_file(root, original):
    real = resolve(root, original)
    if not os.path.isfile(real):
        raise FileNotFoundError(f"{original} -> {real} not found in package tree")
    with open(real, "rb") as fh:
        data = fh.read()
    if original.endswith(".gz"):
        data = gzip.decompress(data)
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/work/faqcorpus", help="corpus folder (debs/, unpack/, sites/ inside)")
    ap.add_argument("--manifest", default=os.path.join(HERE, "manifest.json"))
    ap.add_argument("--only", nargs="*", help="rebuild only these site ids")
    args = ap.parse_args()

    with open(args.manifest, encoding="utf-8") as fh:
        manifest = json.load(fh)
    sites = manifest["sites"]
    if args.only:
        sites = [s for s in sites if s["id"] in set(args.only)]

    out = os.path.abspath(args.out)
    debdir = os.path.join(out, "debs")
    unpackdir = os.path.join(out, "unpack")
    sitesdir = os.path.join(out, "sites")

    pkgs = {}
    for s in sites:
        pkgs.setdefault(s["package"], s["version"])

    roots = {}
    for pkg, version in sorted(pkgs.items()):
        path, got = download(debdir, pkg, version)
        root = os.path.join(unpackdir, pkg)
        if os.path.isdir(root):
            shutil.rmtree(root)
        os.makedirs(root)
        subprocess.run(["dpkg-deb", "-x", path, root], check=True)
        roots[pkg] = root
        print(f"unpacked {pkg} {got}")

    if not args.only and os.path.isdir(sitesdir):
        shutil.rmtree(sitesdir)
    os.makedirs(sitesdir, exist_ok=True)
    total = 0
    for s in sites:
        dest = os.path.join(sitesdir, s["id"])
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.makedirs(dest)
        for f in s["files"]:
            data = read_file(roots[s["package"]], f["original"])
            target = os.path.join(dest, f["path"])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(data)
            total += 1
        print(f"site {s['id']:<22} {len(s['files']):3d} files")
    print(f"done: {len(sites)} sites, {total} files in {sitesdir}")


if __name__ == "__main__":
    main()
