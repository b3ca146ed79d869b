"""Prints the newest GLIBC_ symbol version an ELF executable needs.

    python3 scripts/glibc-needed.py FILE

It reads the version-needs table (the SHT_GNU_VERNEED section,
.gnu.version_r) of a 64-bit little-endian ELF file for x86-64 or AArch64:
the newest GLIBC_x.y[.z] named there is the oldest glibc the program starts
on. Prints that version (e.g. 2.17) on stdout and exits 0; says what is wrong
on stderr and exits 1 for a file that is not such an ELF or names no GLIBC_
version (static, or linked against another C library).
scripts/release.sh runs it on every Linux binary it packages.
"""

import struct
import sys

MACHINES = {62: "x86-64", 183: "AArch64"}
SHT_GNU_VERNEED = 0x6FFFFFFE


def glibc_versions(elf):
    """The set of GLIBC_ versions in the file's version-needs entries."""
    if elf[:4] != b"\x7fELF" or len(elf) < 64 or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    (machine,) = struct.unpack_from("<H", elf, 18)
    if machine not in MACHINES:
        raise ValueError(f"ELF machine {machine} is neither x86-64 (62) nor AArch64 (183)")
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    versions = set()
    for _, kind, _, _, offset, _, link, count, _, _ in sections:
        if kind != SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        need = offset
        for _ in range(count):
            _, aux_count, _, aux, following = struct.unpack_from("<HHIII", elf, need)
            entry = need + aux
            for _ in range(aux_count):
                _, _, _, label, aux_next = struct.unpack_from("<IHHII", elf, entry)
                start = strings + label
                name = elf[start : elf.index(b"\0", start)].decode()
                if name.startswith("GLIBC_") and name[6:7].isdigit():
                    versions.add(tuple(int(part) for part in name[6:].split(".")))
                entry += aux_next
            need += following
    return versions


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: python3 scripts/glibc-needed.py FILE\n")
        return 2
    path = argv[1]
    try:
        with open(path, "rb") as f:
            versions = glibc_versions(f.read())
    except (OSError, ValueError, struct.error, IndexError) as e:
        sys.stderr.write(f"{path}: {e}\n")
        return 1
    if not versions:
        sys.stderr.write(f"{path} names no GLIBC_ symbol version (static, or not linked against glibc)\n")
        return 1
    print(".".join(map(str, max(versions))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
