#!/usr/bin/env python3
"""Writes the invalid-configuration corpus: one file per case, with the line Fulcrum must
refuse and what `haproxy -c` (2.6) says about it. Run from this directory with haproxy
installed; review the diff before committing."""
import subprocess, re, os
T = "    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\n"
D = "defaults\n    mode http\n" + T
cases = [
 ("unknown-global-keyword", "global\n    daemon\n    nbtread 2 # <<<\n", "unknown keyword 'nbtread' in 'global' section; did you mean 'nbthread'"),
 ("unknown-defaults-keyword", "defaults\n    timout client 5s # <<<\n", "did you mean 'timeout'"),
 ("unknown-frontend-keyword", D+"frontend f\n    bind 127.0.0.1:8080\n    defualt_backend b # <<<\nbackend b\n    server s 127.0.0.1:8081\n", "did you mean 'default_backend'"),
 ("unknown-backend-keyword", D+"backend b\n    servr s 127.0.0.1:8081 # <<<\n", "did you mean 'server'"),
 ("balance-misspelt", D+"backend b\n    balance roundrobbin # <<<\n", "balance only supports"),
 ("server-in-frontend", D+"frontend f\n    bind 127.0.0.1:8080\n    server s 127.0.0.1:8081 # <<<\n", "'server' not allowed because frontend 'f' has no backend capability"),
 ("server-in-defaults", "defaults\n    server s 127.0.0.1:8081 # <<<\n", "'server' not allowed in 'defaults' section"),
 ("bind-in-defaults", "defaults\n    bind :8080 # <<<\n", "'bind' not allowed in 'defaults' section"),
 ("nbthread-in-frontend", D+"frontend f\n    bind 127.0.0.1:8080\n    nbthread 2 # <<<\n", "unknown keyword 'nbthread' in 'frontend' section"),
 ("keyword-before-section", "    daemon # <<<\nglobal\n", "out of section"),
 ("unmatched-double-quote", "global\n    log-tag \"fulcrum # <<<\n", "unmatched quote"),
 ("unmatched-single-quote", "global\n    log-tag 'fulcrum # <<<\n", "unmatched quote"),
 ("truncated-hex-escape", "global\n    log-tag abc\\x4 # <<<\n", "hexadecimal"),
 ("missing-default-backend", D+"frontend f\n    bind 127.0.0.1:8080\n    default_backend nope # <<<\n", "unable to find required default_backend: 'nope'"),
 ("missing-use-backend", D+"frontend f\n    bind 127.0.0.1:8080\n    use_backend nope if { path_beg /x } # <<<\n    default_backend b\nbackend b\n    server s 127.0.0.1:8081\n", "unable to find required use_backend: 'nope'"),
 ("http-frontend-tcp-backend", D+"frontend f\n    bind 127.0.0.1:8080\n    default_backend b # <<<\nbackend b\n    mode tcp\n    server s 127.0.0.1:8081\n", "incompatible tcp backend 'b'"),
 ("duplicate-frontend", D+"frontend f\n    bind 127.0.0.1:8080\nfrontend f # <<<\n    bind 127.0.0.1:8081\n", "has the same name as"),
 ("duplicate-backend", D+"backend b\n    server s 127.0.0.1:8081\nbackend b # <<<\n    server s 127.0.0.1:8082\n", "has the same name as"),
 ("duplicate-server", D+"backend b\n    server s 127.0.0.1:8081\n    server s 127.0.0.1:8082 # <<<\n", "server name is already used"),
 ("server-port-too-large", D+"backend b\n    server s 127.0.0.1:70000 # <<<\n", "invalid port '70000'"),
 ("server-port-not-numeric", D+"backend b\n    server s 127.0.0.1:http # <<<\n", "invalid port 'http'"),
 ("server-bad-ipv4", D+"backend b\n    server s 300.1.2.3:80 # <<<\n", "invalid ipv4 address"),
 ("bind-port-zero", D+"frontend f\n    bind 127.0.0.1:0 # <<<\n", "invalid port '0'"),
 ("bind-reversed-range", D+"listen l\n    bind 127.0.0.1:8000-7000 # <<<\n    server s 127.0.0.1:8081\n", "invalid port range"),
 ("bind-no-address", D+"frontend f\n    bind # <<<\n", "'bind' expects"),
 ("bind-unknown-option", D+"frontend f\n    bind 127.0.0.1:8080 bogus # <<<\n", "unknown keyword 'bogus'"),
 ("server-weight-300", D+"backend b\n    server s 127.0.0.1:80 weight 300 # <<<\n", "weight of server must be between 0 and 256"),
 ("server-weight-negative", D+"backend b\n    server s 127.0.0.1:80 weight -1 # <<<\n", "weight of server must be between 0 and 256"),
 ("server-unknown-option", D+"backend b\n    server s 127.0.0.1:80 chek # <<<\n", "did you mean 'check'"),
 ("server-bad-inter", D+"backend b\n    server s 127.0.0.1:80 check inter abc # <<<\n", "unexpected character 'a'"),
 ("server-rise-zero", D+"backend b\n    server s 127.0.0.1:80 check rise 0 # <<<\n", "'rise' must be between 1"),
 ("server-fall-zero", D+"backend b\n    server s 127.0.0.1:80 check fall 0 # <<<\n", "'fall' must be between 1"),
 ("timeout-bad-unit", "defaults\n    timeout client 5x # <<<\n", "unexpected character 'x' in 'timeout client'"),
 ("timeout-negative", "defaults\n    timeout connect -1 # <<<\n", "negative durations are not allowed"),
 ("timeout-unknown-kind", "defaults\n    timeout clinet 5s # <<<\n", "(got 'clinet'); did you mean 'client'"),
 ("timeout-overflow", "defaults\n    timeout client 30d # <<<\n", "timer overflow"),
 ("maxconn-not-numeric", "global\n    maxconn abc # <<<\n", "'maxconn' expects an integer, got 'abc'"),
 ("retries-not-numeric", "defaults\n    retries x # <<<\n", "'retries' expects an integer, got 'x'"),
 ("nbthread-zero", "global\n    nbthread 0 # <<<\n", "'nbthread' value must be between 1 and 64 (was 0)"),
 ("nbthread-not-numeric", "global\n    nbthread abc # <<<\n", "'nbthread' expects an integer"),
 ("bufsize-not-a-size", "global\n    tune.bufsize abc # <<<\n", "expects a size"),
 ("errorfile-missing-file", "defaults\n    errorfile 503 /nonexistent/503.http # <<<\n", "error opening file '/nonexistent/503.http'"),
 ("errorfile-unsupported-code", "defaults\n    errorfile 418 /etc/hostname # <<<\n", "status code '418' not handled"),
 ("mode-unknown", "defaults\n    mode ftp # <<<\n", "unknown proxy mode 'ftp'"),
 ("hash-type-unknown", "defaults\n    hash-type bogus # <<<\n", "'hash-type' expects 'map-based' or 'consistent'"),
 ("frontend-without-name", "frontend # <<<\n    bind :8080\n", "'frontend' expects <name>"),
 ("backend-without-name", "backend # <<<\n", "'backend' expects <name>"),
 ("if-without-endif", "global\n.if defined(HOME) # <<<\n    daemon\n", "not terminated by '.endif'"),
 ("endif-without-if", "global\n    daemon\n.endif # <<<\n", "'.endif' found without a matching '.if'"),
 ("else-twice", "global\n.if 1\n.else\n.else # <<<\n.endif\n", "only one '.else'"),
 ("elif-after-else", "global\n.if 0\n.else\n.elif 1 # <<<\n.endif\n", "'.elif' cannot follow '.else'"),
 ("alert-directive", "global\n.if !defined(FULCRUM_NEVER_SET_VARIABLE)\n.alert \"TLS material is mandatory\" # <<<\n.endif\n", "TLS material is mandatory"),
 ("unknown-predicate", "global\n.if frobnicate(1) # <<<\n.endif\n", "unknown predicate 'frobnicate'"),
 ("option-unknown", "defaults\n    option htplog # <<<\n", "unknown option 'htplog'; did you mean 'httplog'"),
 ("stats-socket-bad-level", "global\n    stats socket /tmp/fulcrum-corpus.sock level root # <<<\n", "'level' only supports 'user', 'operator', and 'admin'"),
 ("log-bad-facility", "global\n    log 127.0.0.1 local9 # <<<\n", "unknown log facility 'local9'"),
 ("capture-without-len", D+"frontend f\n    bind 127.0.0.1:8080\n    capture request header Host # <<<\n", "expects <header> 'len' <len>"),
 ("http-request-unknown-action", D+"frontend f\n    bind 127.0.0.1:8080\n    http-request frobnicate # <<<\n", "unknown action 'frobnicate'"),
 ("acl-without-criterion", D+"frontend f\n    bind 127.0.0.1:8080\n    acl lonely # <<<\n", "expects a criterion"),
 ("unique-id-header-without-name", "defaults\n    unique-id-header # <<<\n", "'unique-id-header' expects <name>"),
 ("cookie-without-name", "defaults\n    cookie # <<<\n", "'cookie' expects <name>"),
 ("from-unknown-defaults", "defaults base\n"+T+"frontend f from nowhere # <<<\n    bind 127.0.0.1:8080\n", "unable to find defaults section 'nowhere'"),
 ("user-does-not-exist", "global\n    user fulcrum-no-such-user # <<<\n", "cannot find user id for 'fulcrum-no-such-user'"),
 ("unsupported-section", "global\nresolvers dns # <<<\n    nameserver ns1 127.0.0.1:53\n", "'resolvers' sections are not supported yet"),
 ("untranslatable-reqrep", D+"frontend f\n    bind 127.0.0.1:8080\n    reqrep ^GET\\ /old(.*) GET\\ /new\\1 # <<<\n", "cannot be translated automatically"),
 ("legacy-reqdeny", D+"frontend f\n    bind 127.0.0.1:8080\n    reqdeny ^User-Agent:.*curl # <<<\n", "legacy keyword"),
 ("tcp-request-unknown-kind", D+"frontend f\n    bind 127.0.0.1:8080\n    tcp-request bogus accept # <<<\n", "'tcp-request' expects 'connection', 'content', 'session' or 'inspect-delay'"),
 ("server-unresolvable-host", D+"backend b\n    server s no-such-host.invalid:80 # <<<\n", "could not resolve address 'no-such-host.invalid'"),
 ("frontend-without-bind", D+"frontend f # <<<\n    default_backend b\nbackend b\n    server s 127.0.0.1:8081\n", "has no 'bind' directive"),
]
here = os.getcwd()
for n, (name, body, sub) in enumerate(cases, 1):
    lines = body.rstrip("\n").split("\n")
    bad = [i for i, l in enumerate(lines) if l.endswith("# <<<")]
    assert len(bad) == 1, name
    expect_line = bad[0] + 1 + 2
    fn = f"{n:02d}-{name}.cfg"
    tmp = "/tmp/corpus-probe.cfg"
    text = "\n".join(lines) + "\n"
    open(tmp, "w").write("#\n#\n" + text)
    r = subprocess.run(["haproxy", "-c", "-f", tmp], capture_output=True, text=True)
    if r.returncode == 0 or "has no error" in r.stdout + r.stderr:
        hp = "accepts"
    else:
        first = next((l for l in r.stderr.splitlines() if l.startswith("[ALERT]")), "")
        m = re.search(r"\[" + re.escape(tmp) + r":(\d+)\]", first)
        msg = re.sub(r"^\[ALERT\]\s+\(\d+\) : config : ", "", first)
        msg = re.sub(r"(parsing )?\[" + re.escape(tmp) + r":\d+\] : ", "", msg).replace(tmp, "FILE").strip()
        hp = (m.group(1) if m else "none") + " | " + msg
    open(fn, "w").write(f"# expect: {expect_line} | {sub}\n# haproxy: {hp}\n" + text)
print(len(cases))
