/// Converter names to converters, arguments checked and map files loaded.
enum SampleConverterParser {
    static func parse(_ name: String, _ args: [String], files: PatternFiles) throws(ConfigError) -> SampleConverter {
        func none() throws(ConfigError) {
            if !args.isEmpty { throw ConfigError("converter '\(name)' takes no argument (got '\(args.joined(separator: ","))').") }
        }
        func integer(_ k: Int, _ what: String) throws(ConfigError) -> Int {
            guard k < args.count, let n = Int(args[k]) else {
                throw ConfigError("converter '\(name)' : \(what) must be an integer (got '\(k < args.count ? args[k] : "")').")
            }
            return n
        }
        switch name {
        case "lower": try none(); return .lower
        case "upper": try none(); return .upper
        case "length", "len": try none(); return .length
        case "hex": try none(); return .hex
        case "base64": try none(); return .base64
        case "json":
            if let mode = args.first, !["ascii", "utf8", "utf8s", "utf8p", "utf8ps"].contains(mode) {
                throw ConfigError("converter 'json' : unknown mode '\(mode)' (expects ascii, utf8, utf8s, utf8p or utf8ps).")
            }
            return .json
        case "not": try none(); return .not
        case "bool": try none(); return .bool
        case "neg": try none(); return .neg
        case "bytes":
            let offset = try integer(0, "the offset")
            let length = args.count > 1 ? try integer(1, "the length") : nil
            guard offset >= 0, (length ?? 0) >= 0, offset < Int(Int32.max), (length ?? 0) < Int(Int32.max) else { throw ConfigError("converter 'bytes' : offset and length cannot be negative.") }
            return .bytes(offset: offset, length: length)
        case "field", "word":
            guard args.count >= 2, args.count <= 3 else { throw ConfigError("converter '\(name)' expects <index>,<delimiters>[,<count>].") }
            let index = try integer(0, "the index")
            guard index != 0 else { throw ConfigError("converter '\(name)' : index cannot be 0 (fields count from 1, or from -1 at the end).") }
            let count = args.count > 2 ? try integer(2, "the count") : 1
            guard count >= 0 else { throw ConfigError("converter '\(name)' : the count cannot be negative.") }
            return .field(index: index, delimiters: Set(args[1].utf8), count: count, words: name == "word")
        case "regsub":
            guard args.count >= 2, args.count <= 3 else { throw ConfigError("converter 'regsub' expects <regex>,<subst>[,<flags>].") }
            let flags = args.count > 2 ? args[2] : ""
            if let bad = flags.first(where: { $0 != "g" && $0 != "i" }) { throw ConfigError("converter 'regsub' : unknown flag '\(bad)' (expects g or i).") }
            return .regsub(try CompiledRegex(args[0], ignoreCase: flags.contains("i")), replacement: Array(args[1].utf8), global: flags.contains("g"))
        case "ipmask":
            guard !args.isEmpty, args.count <= 2 else { throw ConfigError("converter 'ipmask' expects <mask4>[,<mask6>].") }
            func bits(_ text: String, _ max: Int) throws(ConfigError) -> Int {
                if let n = Int(text), n >= 0, n <= max { return n }
                if max == 32, let m = IPNetwork.parse(text), m.count == 4 { return m.reduce(0) { $0 + $1.nonzeroBitCount } }
                throw ConfigError("converter 'ipmask' : '\(text)' is not a valid mask.")
            }
            return .ipmask(v4: try bits(args[0], 32), v6: args.count > 1 ? try bits(args[1], 128) : 128)
        case "concat":
            guard args.count <= 3 else { throw ConfigError("converter 'concat' expects [<start>],[<var>],[<end>].") }
            let variable = args.count > 1 && !args[1].isEmpty ? try VariableName.parse(args[1]) : nil
            return .concat(prefix: Array((args.first ?? "").utf8), variable: variable, suffix: Array((args.count > 2 ? args[2] : "").utf8))
        case "add", "sub", "mul", "div", "mod":
            guard args.count == 1 else { throw ConfigError("converter '\(name)' expects one integer or variable argument.") }
            let op: SampleConverter.Operator = ["add": .add, "sub": .sub, "mul": .mul, "div": .div, "mod": .mod][name]!
            if let n = Int64(args[0]) { return .arithmetic(op, .constant(n)) }
            return .arithmetic(op, .variable(try VariableName.parse(args[0])))
        case "url_dec": return .urlDecode(inForm: args.first.map { $0 == "1" } ?? false)
        case "url_enc": return .urlEncode
        case "ltrim", "rtrim":
            guard args.count == 1 else { throw ConfigError("converter '\(name)' expects the characters to remove.") }
            return name == "ltrim" ? .ltrim(Set(args[0].utf8)) : .rtrim(Set(args[0].utf8))
        case "sdbm", "djb2", "wt6", "crc32":
            let avalanche = args.first.map { $0 == "1" } ?? false
            return .hash(HashFunction(rawValue: name)!, avalanche: avalanche)
        case "and", "or", "xor":
            guard args.count == 1 else { throw ConfigError("converter '\(name)' expects one integer or variable argument.") }
            let op: SampleConverter.BitOperator = name == "and" ? .and : name == "or" ? .or : .xor
            if let n = Int64(args[0]) { return .bitwise(op, .constant(n)) }
            return .bitwise(op, .variable(try VariableName.parse(args[0])))
        case "http_date":
            if args.count > 1 { throw ConfigError("converter 'http_date' expects [<offset>] (the millisecond/microsecond units are not implemented yet).") }
            return .httpDate(offset: args.isEmpty ? 0 : Int64(try integer(0, "the offset")))
        case "utime", "ltime":
            guard let format = args.first, !format.isEmpty, args.count <= 2 else { throw ConfigError("converter '\(name)' expects <format>[,<offset>].") }
            return .formatTime(format, offset: args.count > 1 ? Int64(try integer(1, "the offset")) : 0, local: name == "ltime")
        case "sha1": try none(); return .digest(try MessageDigest("SHA1", for: name))
        case "sha2":
            let bits = args.isEmpty ? 256 : try integer(0, "the number of bits")
            guard args.count <= 1, [224, 256, 384, 512].contains(bits) else {
                throw ConfigError("converter 'sha2' : unsupported number of bits '\(args.joined(separator: ","))' (expects 224, 256, 384 or 512).")
            }
            return .digest(try MessageDigest("SHA\(bits)", for: name))
        case "digest":
            guard args.count == 1, !args[0].isEmpty else { throw ConfigError("converter 'digest' expects <algorithm>.", hint: "write 'digest(sha256)'") }
            return .digest(try MessageDigest(args[0], for: name))
        case "hmac":
            guard args.count == 2, !args[0].isEmpty, !args[1].isEmpty else {
                throw ConfigError("converter 'hmac' expects <algorithm>,<key> (the key base64-encoded, or a variable holding it).", hint: "write 'hmac(sha256,c2VjcmV0)'")
            }
            let md = try MessageDigest(args[0], for: name)
            // As HAProxy, an argument that starts with a variable scope names a variable.
            if (try? VariableName.parse(args[1])) != nil { return .hmac(md, key: .variable(args[1])) }
            guard let key = SampleFetch.base64Decode(args[1][...]) else {
                throw ConfigError("converter 'hmac' : the key '\(args[1])' is neither base64 text nor a variable name.")
            }
            return .hmac(md, key: .constant(key))
        case "xxh32", "xxh64", "xxh3":
            if args.count > 1 { throw ConfigError("converter '\(name)' expects [<seed>].") }
            let seed = args.isEmpty ? 0 : Int64(try integer(0, "the seed"))
            if name == "xxh32" { return .xxh32(seed: UInt32(truncatingIfNeeded: seed)) }
            return name == "xxh64" ? .xxh64(seed: UInt64(bitPattern: seed)) : .xxh3(seed: UInt64(bitPattern: seed))
        case "crc32c": return .crc32c(avalanche: args.first.map { $0 == "1" } ?? false)
        case "odd": try none(); return .odd
        case "even": try none(); return .even
        default:
            if name == "map" || name.hasPrefix("map_") { return try map(name, args, files) }
            if unimplemented.contains(name) {
                throw ConfigError("converter '\(name)' is not implemented yet.", hint: "see the converters Fulcrum supports in docs/acl.md")
            }
            throw ConfigError("unknown converter '\(name)'\(Suggestion.didYouMean(name, in: known)).")
        }
    }

    /// `map[_<match>[_<output>]](<file>[,<default>])`.
    static func map(_ name: String, _ args: [String], _ files: PatternFiles) throws(ConfigError) -> SampleConverter {
        var parts = name.split(separator: "_").map(String.init).dropFirst()
        let match = parts.isEmpty ? MatchMethod.str : MatchMethod(rawValue: parts.removeFirst())
        let output = parts.isEmpty ? MatchMethod.str : MatchMethod(rawValue: parts.removeFirst())
        guard let match, let output, parts.isEmpty, [.str, .beg, .sub, .dir, .dom, .end, .reg, .ip, .int, .len, .bin].contains(match),
              [.str, .int, .ip].contains(output) else {
            throw ConfigError("unknown converter '\(name)'.", hint: "write map_<match>[_<output>] with match one of str, beg, sub, dir, dom, end, reg, ip, int and output str, int or ip")
        }
        guard let file = args.first, !file.isEmpty, args.count <= 2 else {
            throw ConfigError("converter '\(name)' expects <map file>[,<default value>].")
        }
        let list = try files.list(file, method: match, ignoreCase: false, valueType: output)
        let defaultValue = args.count > 1 ? try PatternList.value(args[1], output) : nil
        return .map(list, defaultValue: defaultValue)
    }

    static let unimplemented: Set<String> = [
        "in_table", "table_http_req_rate", "table_conn_cur", "set-var", "unset-var", "debug",
        "aes_gcm_dec", "b64dec", "ub64dec", "ub64enc", "be2dec", "be2hex", "cut_crlf", "protobuf", "ungrpc",
        "secure_memcmp", "strcmp", "language", "srv_queue", "cpl", "ipmask6", "mqtt_field_value",
        "fix_tag_value", "host_only", "port_only", "param", "json_query", "x509_v_err_str", "ms_ltime", "ms_utime", "us_ltime", "us_utime",
    ]

    static let known: [String] = [
        "lower", "upper", "length", "hex", "base64", "json", "not", "bool", "neg", "bytes", "field", "word", "regsub", "ipmask",
        "concat", "add", "sub", "mul", "div", "mod", "map", "map_str", "map_beg", "map_sub", "map_dir", "map_dom", "map_end",
        "map_reg", "map_ip", "map_int", "url_dec", "url_enc", "ltrim", "rtrim", "sdbm", "djb2", "wt6", "crc32", "and", "or", "xor",
        "odd", "even", "http_date", "utime", "ltime", "sha1", "sha2", "digest", "hmac", "xxh32", "xxh64", "xxh3", "crc32c",
    ]
}
