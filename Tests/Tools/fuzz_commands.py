#!/usr/bin/env python3
"""Whole-command fuzzing of segscope (issue 22): mutated datasets, weights,
memories, shards, themes, bookmarks and argument vectors run through every
command but the interactive viewer, each in a child with a time and memory
limit, in its own scratch folder.

A run is a finding when the child
  - dies by a signal (a Swift trap, an abort, the address-space limit),
  - runs past --timeout seconds,
  - peaks above --rss-mb of resident memory (the child's rusage),
  - exits with a status other than 0, 1 (error) or 64 (usage error), or
    fails without the one `segscope: ...` line (a raw Foundation error too),
  - changes its inputs or writes anything outside its output paths.
Each finding is kept under WORK/findings/N with the command that reproduces it.
Exits 1 if there was a finding. Only the standard library is needed.

  fuzz_commands.py --binary .build/debug/segscope --seconds 600
"""
import argparse
import hashlib
import os
import random
import re
import resource
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_setup(binary, arguments, cwd):
    result = subprocess.run([binary] + arguments, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("fuzz_commands: setup failed: segscope %s: %s" % (" ".join(arguments), result.stderr.strip()))


def make_base(binary, base):
    """The inputs every run starts from, made once by segscope itself."""
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    run_setup(binary, ["synth", "--out", "data", "--sequences", "2", "--frames", "3", "--size", "64x128",
                       "--feature-dim", "64", "--seed", "7", "--split", "val"], base)
    run_setup(binary, ["synth", "--out", "big", "--sequences", "1", "--frames", "1", "--size", "128x256",
                       "--feature-dim", "64", "--seed", "8", "--split", "val"], base)
    run_setup(binary, ["synth", "--out", "small", "--sequences", "1", "--frames", "1", "--size", "32x64",
                       "--feature-dim", "64", "--seed", "9", "--split", "val"], base)
    shutil.copy(os.path.join(ROOT, "samples/weights/street-c64.safetensors"), os.path.join(base, "w.safetensors"))
    run_setup(binary, ["infer", "data", "--weights", "w.safetensors", "--out", "run"], base)
    # The run's manifest names the dataset by absolute path: relative, so runs read their own mutated copy.
    manifest = os.path.join(base, "run/segscope.toml")
    with open(manifest) as f:
        text = f.read().replace('"%s/data/' % base, '"../data/')
    with open(manifest, "w") as f:
        f.write(text)
    run_setup(binary, ["memory", "build", "data", "--weights", "w.safetensors", "--out", "memory",
                       "--kl", "2", "--kh", "2"], base)
    run_setup(binary, ["eval", "./run", "--save-confusion", "shard.st", "--format", "json"], base)
    shutil.copy(os.path.join(ROOT, "themes/cityscapes.toml"), os.path.join(base, "theme.toml"))
    with open(os.path.join(base, "bookmarks.json"), "w") as f:
        f.write('{"bookmarks": [{"key": "synth_000000_000001", "note": "a note", '
                '"created": "2026-01-01T00:00:00Z"}]}\n')
    # A VSPW-layout dataset from the JPEG fuzz seeds, with masks by segscope.
    corpus = os.path.join(ROOT, "Fuzz/corpus/jpeg")
    for index, name in enumerate(sorted(os.listdir(corpus))[:3]):
        folder = os.path.join(base, "vspw/data/v1/origin")
        os.makedirs(folder, exist_ok=True)
        shutil.copy(os.path.join(corpus, name), os.path.join(folder, "%08d.jpg" % index))
    with open(os.path.join(base, "vspw/val.txt"), "w") as f:
        f.write("v1\n")


def files_under(folder):
    for parent, _, names in os.walk(folder):
        for name in names:
            yield os.path.join(parent, name)


def frame_keys(base):
    features = sorted(files_under(os.path.join(base, "data/features")))
    return [os.path.relpath(p, base) for p in features]


def templates(base):
    """(arguments, input globs read) per command; paths relative to the run folder."""
    feats = frame_keys(base)
    gt = "in/data/gtFine"
    return [
        (["render", "in/data", "--frame", "2", "--ansi", "--cols", "80", "--rows", "24"], ["data"]),
        (["render", "in/data", "--frame", "1/2", "--ansi", "--keys", "c i", "--png", "out/fig.png"], ["data"]),
        (["render", "in/run", "--ansi", "--keys", "C", "--cols", "100", "--rows", "30"], ["run", "data"]),
        (["render", "in/vspw", "--ansi", "--label-space", "vspw"], ["vspw"]),
        (["eval", "in/run", "--format", "csv", "--save-confusion", "out/s.st"], ["run", "data"]),
        (["eval", "--gt", gt, "--pred", "a=in/run/pred/mar", "--conf", "a=in/run/conf/mar",
          "--label-space", "cityscapes", "--suspects", "out/suspects.csv", "--format", "json"], ["run", "data"]),
        (["eval", "in/run", "--band", "2", "--vc", "2", "--format", "markdown"], ["run", "data"]),
        # The ground truth as its own prediction: a mutated file is both.
        (["eval", "--gt", gt, "--pred", "gt=" + gt, "--label-space", "cityscapes", "--vc", "2"], ["data/gtFine"]),
        (["eval", "merge", "in/shard.st", "in/shard.st", "--save-confusion", "out/m.st"], ["shard.st"]),
        (["forward", "--weights", "in/w.safetensors", "--frames", "in/" + feats[0], "in/" + feats[1],
          "in/" + feats[2], "--out", "out"], ["w.safetensors", "data/features"]),
        (["forward", "--weights", "in/w.safetensors", "--images"]
         + ["in/" + f.replace("features", "leftImg8bit_sequence").replace(".npy", "_leftImg8bit.png")
            for f in feats[:3]]
         + ["--out", "out"], ["w.safetensors", "data/leftImg8bit_sequence"]),
        (["explain", "--weights", "in/w.safetensors", "--features", "in/" + feats[0], "in/" + feats[1],
          "in/" + feats[2], "--pixel", "8,16", "--top", "3", "--format", "json"], ["w.safetensors", "data/features"]),
        (["explain", "in/run", "--weights", "in/w.safetensors", "--frame", "1/2", "--pixel", "63,127", "--top", "2"],
         ["run", "data", "w.safetensors"]),
        (["explain", "in/data", "--weights", "in/w.safetensors", "--fixed-broken", "--sequence", "2", "--band", "2",
          "--format", "csv", "--out", "out/table.csv"], ["w.safetensors", "data"]),
        (["infer", "in/data", "--weights", "in/w.safetensors", "--out", "out", "--labelled-only"],
         ["w.safetensors", "data"]),
        (["infer", "in/data", "--weights", "in/w.safetensors", "--out", "out", "--shard", "1/2", "--compact"],
         ["w.safetensors", "data"]),
        (["memory", "build", "in/data", "--weights", "in/w.safetensors", "--out", "out", "--kl", "3", "--kh", "2"],
         ["w.safetensors", "data"]),
        (["memory", "inspect", "in/memory"], ["memory"]),
        (["memory", "inspect", "in/memory/memory.safetensors", "--format", "json"], ["memory"]),
        (["train", "classifier", "in/data", "--out", "out/c.safetensors", "--epochs", "1", "--batch", "2"], ["data"]),
        (["train", "stf", "in/data", "--out", "out/s.safetensors", "--epochs", "1", "--block", "8x8", "--ffn", "16",
          "--init", "in/w.safetensors"], ["data", "w.safetensors"]),
        (["train", "mar", "in/data", "--out", "out/m.safetensors", "--epochs", "1", "--memory", "in/memory",
          "--init", "in/w.safetensors", "--val", "in/data"], ["data", "memory", "w.safetensors"]),
        (["weights", "in/w.safetensors"], ["w.safetensors"]),
        (["synth", "--out", "out/s", "--sequences", "1", "--frames", "2", "--size", "32x64", "--feature-dim", "8"], []),
        (["labels", "in/theme.toml"], ["theme.toml"]),
        (["themes"], []),
        (["bookmarks", "in/bookmarks.json"], ["bookmarks.json"]),
    ]


HOSTILE_VALUES = ["", "0", "-1", "1e308", "-1e308", "nan", "inf", "9223372036854775807", "-9223372036854775808",
                  "18446744073709551616", "2147483648", "100000x100000", "0x0", "1x", "x", "/", ".", "..", "//",
                  "/dev/zero", "/dev/null", "in", "in/data", "in/w.safetensors", "out", "a=", "=b", "a=b=c",
                  "\x1b]0;PWNED\x07", "-", "--", "1/0", "0/0", "5/3", "-1/2", "\u202e", "%s%n",
                  "long/" * 900, "n" * 300, "4096x8192", "1000", "500", "d", "x"]


FIRST_FRAMES = re.compile(r"synth_000000_00000[01]")
SYSTEM_PATHS = {"/", "//", "/dev/zero", "/dev/null", ".", ".."}
OUTPUT_OPTIONS = {"--out", "--png", "--save-confusion", "--suspects", "--save-features", "--bookmarks"}

# Values that point a command at its inputs or its working folder: writing
# there is what the user asked for, not a stray write.
INPUT_VALUES = {"in", "in/data", "in/w.safetensors", ".", "a=b=c", "-", "/dev/null"}


COMMAND_WORDS = {"render", "eval", "merge", "forward", "explain", "infer", "memory", "build", "inspect", "train",
                 "weights", "synth", "labels", "themes", "bookmarks"}
OPTION_LINE = re.compile(r"^  (?:-\w, )?(--[a-z0-9-]+)( <[^>]+>)?")


def command_options(binary, arguments, cache={}):
    """The options of the command that `arguments` run, from its --help: (name, None, "number" or "text")."""
    words = []
    for word in arguments:
        if word not in COMMAND_WORDS:
            break
        words.append(word)
    key = tuple(words)
    if key not in cache:
        text = subprocess.run([binary] + words + ["--help"], capture_output=True, text=True).stdout
        blocks = []
        for line in text.splitlines():
            if OPTION_LINE.match(line):
                blocks.append(line)
            elif blocks and line.startswith("      "):
                blocks[-1] += " " + line.strip()
        options = []
        for block in blocks:
            match = OPTION_LINE.match(block)
            if match.group(1) == "--help":
                continue
            # Numeric options state a range ("1-512", "(0-100)") or a number default in their help.
            numeric = match.group(2) and re.search(r"\d+-\d+|default: -?[0-9.e-]+\)|HxW|x[HW]|K/N", block)
            options.append((match.group(1), None if not match.group(2) else "number" if numeric else "text"))
        cache[key] = options
    return cache[key]


NUMERIC_VALUES = ["0", "-1", "1", "2", "9223372036854775807", "4611686018427387904", "100000", "65536", "1e308",
                  "nan", "-inf", "1e-320", "100000x100000", "65536x65536", "4096x8192", "1x1", "8x8", "0/1", "1/1",
                  "3/2", "1000000"]


def hostile_value(rng, arguments, numeric=False):
    """A hostile value (a numeric one for an option whose value is a number), or an edge of a number that is
    already on the command line."""
    numbers = [a for a in arguments if re.fullmatch(r"-?[0-9.e]+(x[0-9]+)?", a)]
    if numbers and rng.random() < 0.3:
        number = rng.choice(numbers)
        return rng.choice([number + "0000", "-" + number, number.replace("x", "0x") + "0", number * 5])
    return rng.choice(NUMERIC_VALUES if numeric or rng.random() < 0.3 else HOSTILE_VALUES)


def mutate_arguments(rng, arguments, options):
    """The mutated arguments, and whether outputs may now land in the inputs or the run folder."""
    arguments, redirected = list(arguments), False
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        choice = rng.random()
        value = hostile_value(rng, arguments)
        redirected = redirected or value in INPUT_VALUES or value == "n" * 300
        if choice < 0.55 and len(arguments) > 1:
            index = rng.randrange(1, len(arguments))
            redirected = redirected or arguments[index].startswith("out")
            if re.fullmatch(r"[0-9./x-]+", arguments[index]):
                value = hostile_value(rng, arguments, numeric=True)
            arguments[index] = value
        elif choice < 0.7 and len(arguments) > 1:
            index = rng.randrange(1, len(arguments))
            redirected = redirected or arguments[index].startswith("out")
            del arguments[index]
        elif choice < 0.85 and options:
            # One of the command's own options (the others only give usage errors).
            option, kind = rng.choice(options)
            if kind == "number":
                value = hostile_value(rng, arguments, numeric=True)
            arguments += [option] if kind is None else [option, value]
        else:
            arguments.insert(rng.randrange(1, len(arguments) + 1), value)
    # Never let a mutation aim an output at the system or above the run folder (the fuzzer may run as root:
    # `synth --out /dev/null` once replaced /dev/null with a folder, and --force deletes); such values stay inputs.
    for index in range(1, len(arguments)):
        if arguments[index] in SYSTEM_PATHS and arguments[index - 1] in OUTPUT_OPTIONS:
            arguments[index] = "out/system"
    return arguments, redirected


def png_chunks(data):
    """(offset of the chunk's length, type, payload) of a PNG's chunks."""
    offset, chunks = 8, []
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        chunks.append((offset, data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]))
        offset += 12 + length
    return chunks


def mutate_png_header(rng, data):
    for offset, kind, payload in png_chunks(data):
        if kind == b"IHDR" and len(payload) == 13:
            fields = bytearray(payload)
            which = rng.choice(["size", "depth", "type"])
            if which == "size":
                sides = [0, 1, 16384, 16384, 20000, 65535, 1 << 31, 33, 64]
                fields[0:8] = struct.pack(">II", rng.choice(sides), rng.choice(sides))
            elif which == "depth":
                fields[8] = rng.choice([1, 2, 4, 8, 16, 3])
            else:
                fields[9] = rng.choice([0, 2, 3, 4, 6, 7])
            body = b"IHDR" + bytes(fields)
            return data[:offset + 4] + body + struct.pack(">I", zlib.crc32(body)) + data[offset + 25:]
    return data


def mutate_npy_header(rng, data):
    end = data.find(b"\n")
    if not data.startswith(b"\x93NUMPY") or end < 0:
        return data
    header = data[10:end].decode("latin-1")
    replacement = rng.choice(["(64, 400000, 8)", "(64, 0, 0)", "(-1, 4, 8)", "(64, 4, 8, 2)", "()", "(3,)",
                              "(9223372036854775807, 2, 2)", "(64, 8, 4)", "(32, 4, 8)"])
    start = header.find("(")
    stop = header.find(")", start)
    if start < 0 or stop < 0:
        return data
    if rng.random() < 0.3:
        header = header.replace("<f4", rng.choice(["<f2", ">f4", "<f8", "<i4", "|u1", "<c8", "O"]))
    header = header[:start] + replacement + header[stop + 1:]
    return data[:8] + struct.pack("<H", len(header) + 1) + header.encode("latin-1") + b"\n" + data[end + 1:]


def mutate_text(rng, data):
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    lines[index] = rng.choice([b"", b"[[class]]", b"x = ", b"gt = \"/\"", b"frames = \"../../..\"", b"= =",
                               b"label_space = \"custom\"", b"name = \"\\u001b]0;PWNED\\u0007\"",
                               b"gt_encoding = \"color\"", lines[index] * 3, b"\xff\xfe"])
    return b"\n".join(lines)


def mutate_safetensors_header(rng, data):
    if len(data) < 8:
        return data
    (length,) = struct.unpack("<Q", data[:8])
    header = bytearray(data[8:8 + length])
    digits = [i for i, b in enumerate(header) if 0x30 <= b <= 0x39]
    for _ in range(rng.randint(1, 3)):
        if digits:
            header[rng.choice(digits)] = rng.choice(b"0123456789")
    if rng.random() < 0.3:
        header = header.replace(b"F32", rng.choice([b"F16", b"F64", b"BF16", b"I64", b"U8", b"XYZ"]), 1)
    return data[:8] + bytes(header) + data[8 + length:]


def mutate_file(rng, path, sizes):
    with open(path, "rb") as f:
        data = f.read()
    name = os.path.basename(path)
    kinds = ["flip", "truncate", "empty", "append", "splice"]
    if name.endswith(".png"):
        kinds += ["png-header"] * 3 + ["resize"] * 2
    if name.endswith(".npy"):
        kinds += ["npy-header"] * 3 + ["resize"]
    if name.endswith((".toml", ".json", ".txt")):
        kinds += ["text"] * 3
    if name.endswith((".safetensors", ".st")):
        kinds += ["safetensors-header"] * 3
    kind = rng.choice(kinds)
    if kind == "flip" and data:
        data = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        data = bytes(data)
    elif kind == "truncate":
        data = data[:rng.randrange(len(data) + 1)]
    elif kind == "empty":
        data = b""
    elif kind == "append":
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4096)))
    elif kind == "splice" and data:
        start = rng.randrange(len(data))
        data = data[:start] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[start + 64:]
    elif kind == "png-header":
        data = mutate_png_header(rng, data)
    elif kind == "npy-header":
        data = mutate_npy_header(rng, data)
    elif kind == "text":
        data = mutate_text(rng, data)
    elif kind == "safetensors-header":
        data = mutate_safetensors_header(rng, data)
    elif kind == "resize":
        other = [p for p in sizes if os.path.basename(p).rsplit("_", 1)[-1] == name.rsplit("_", 1)[-1]
                 and p.endswith(name[-4:])]
        if other:
            with open(rng.choice(other), "rb") as f:
                data = f.read()
    with open(path, "wb") as f:
        f.write(data)
    return "%s %s" % (kind, path)


def checksum(folder):
    digest = hashlib.sha256()
    for path in sorted(files_under(folder)):
        digest.update(path.encode("utf-8", "surrogateescape"))
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def listing(folder):
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def limit_child(address_space):
    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.nice(5)
    return apply


def run_child(binary, arguments, cwd, environment, timeout, address_space):
    start = time.monotonic()
    with open(os.path.join(cwd, ".stdout"), "wb") as out, open(os.path.join(cwd, ".stderr"), "wb") as err:
        child = subprocess.Popen([binary] + arguments, cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err, preexec_fn=limit_child(address_space))
        timed_out = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid == child.pid:
                break
            if not timed_out and time.monotonic() - start > timeout:
                os.killpg(child.pid, signal.SIGKILL)
                timed_out = True
            time.sleep(0.01)
    with open(os.path.join(cwd, ".stderr"), "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    return status, usage.ru_maxrss * 1024, timed_out, stderr, time.monotonic() - start


def judge(status, rss, timed_out, stderr, rss_limit):
    if timed_out:
        return "timeout"
    if os.WIFSIGNALED(status):
        return "killed by signal %d (%s)" % (os.WTERMSIG(status), signal.Signals(os.WTERMSIG(status)).name)
    code = os.WEXITSTATUS(status)
    if rss > rss_limit:
        return "peak RSS %d MB" % (rss >> 20)
    if code not in (0, 1, 64):
        return "exit status %d" % code
    lines = [line for line in stderr.splitlines() if line and not line.startswith("segscope: warning:")]
    # eval lists every unreadable file (one line each) before its one error line.
    listing = lines[:-1]
    if code == 1 and (not lines or not lines[-1].startswith("segscope: ")
                      or any(not line.startswith("segscope: cannot read: ") for line in listing)
                      or len(listing) == 1):
        return "exit 1 without one 'segscope: ...' line: %r" % stderr[-300:]
    if "Error Domain=" in stderr or "NSCocoaErrorDomain" in stderr:
        return "raw Foundation error: %r" % stderr[-300:]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/segscope"))
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-fuzz/commands"))
    parser.add_argument("--timeout", type=float, default=60, help="seconds per run")
    parser.add_argument("--rss-mb", type=int, default=1536)
    parser.add_argument("--address-space-gb", type=int, default=6)
    options = parser.parse_args()
    binary = os.path.abspath(options.binary)
    work = os.path.abspath(options.work)
    base = os.path.join(work, "base")
    findings_dir = os.path.join(work, "findings")
    shutil.rmtree(findings_dir, ignore_errors=True)
    os.makedirs(findings_dir)
    make_base(binary, base)
    base_sum = checksum(base)
    resized = list(files_under(os.path.join(base, "big"))) + list(files_under(os.path.join(base, "small")))
    commands = templates(base)
    rng = random.Random(options.seed)
    print("fuzz_commands: seed %d, %d commands, %.0f s, binary %s" % (options.seed, len(commands), options.seconds,
                                                                          binary))
    deadline = time.monotonic() + options.seconds
    executions, findings = 0, []
    root_listing = listing("/")
    while time.monotonic() < deadline:
        arguments, reads = rng.choice(commands)
        folder = os.path.join(work, "run")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(os.path.join(folder, "home"))
        os.makedirs(os.path.join(folder, "tmp"))
        shutil.copytree(base, os.path.join(folder, "in"), symlinks=True)
        mutations = []
        candidates = [p for r in reads for p in ([os.path.join(folder, "in", r)] if os.path.isfile(
            os.path.join(folder, "in", r)) else files_under(os.path.join(folder, "in", r)))]
        # Half the time a file of the first frames, which every command reads (render shows frame 1 or 2).
        focus = [p for p in candidates if FIRST_FRAMES.search(p)]
        if candidates and rng.random() < 0.75:
            for _ in range(rng.choice([1, 1, 2, 3])):
                chosen = rng.choice(focus if focus and rng.random() < 0.5 else candidates)
                mutations.append(mutate_file(rng, chosen, resized))
        redirected = False
        if not mutations or rng.random() < 0.5:
            arguments, redirected = mutate_arguments(rng, arguments, command_options(binary, arguments))
        in_sum = checksum(os.path.join(folder, "in"))
        before = listing(folder)
        environment = {"PATH": "/usr/bin:/bin", "HOME": os.path.join(folder, "home"),
                       "TMPDIR": os.path.join(folder, "tmp"),
                       "XDG_CONFIG_HOME": os.path.join(folder, "home"), "SWIFT_BACKTRACE": "enable=no",
                       "TERM": rng.choice(["xterm-256color", "dumb", "vt100"])}
        if rng.random() < 0.5:
            environment["COLORTERM"] = "truecolor"
        status, rss, timed_out, stderr, seconds = run_child(binary, arguments, folder, environment, options.timeout,
                                                            options.address_space_gb << 30)
        executions += 1
        problem = judge(status, rss, timed_out, stderr, options.rss_mb << 20)
        if problem is None and not redirected and checksum(os.path.join(folder, "in")) != in_sum:
            problem = "changed its inputs"
        if problem is None and not redirected:
            # Outputs go to out/ or to a path the arguments name (a hostile value is the user's choice).
            named = {a.split("=")[-1].split("/")[0] for a in arguments} | {"out"}
            stray = sorted(listing(folder) - before - named - {".stdout", ".stderr"})
            if stray or listing("/") != root_listing:
                problem = "wrote outside its output: %s" % (stray or sorted(listing("/") ^ root_listing))
        if problem:
            number = len(findings) + 1
            kept = os.path.join(findings_dir, str(number))
            shutil.copytree(os.path.join(folder, "in"), os.path.join(kept, "in"), symlinks=True)
            shown = " ".join("%s=%s" % (k, shlex.quote(environment[k])) for k in ("TERM", "COLORTERM")
                             if k in environment)
            command = "cd %s && env %s prlimit --as=%d %s %s" % (
                shlex.quote(kept), shown, options.address_space_gb << 30, shlex.quote(binary),
                " ".join(shlex.quote(a) for a in arguments))
            findings.append((problem, command, mutations))
            print("FINDING %d: %s\n  mutations: %s\n  reproduce: %s\n  stderr: %s" % (
                number, problem, "; ".join(m.replace(folder + "/", "") for m in mutations) or "none", command,
                stderr.strip()[-400:]), flush=True)
        if checksum(base) != base_sum:
            sys.exit("fuzz_commands: the base inputs changed; stopping")
    shutil.rmtree(os.path.join(work, "run"), ignore_errors=True)
    print("fuzz_commands: %d executions, %d findings (seed %d)" % (executions, len(findings), options.seed))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
