import FulcrumCore
import Synchronization

/// A frontend's access log: the compiled line format (its `log-format`, or HAProxy's
/// `option httplog`/`tcplog` formats), where lines go, and the options that decide
/// which lines and at which level.
struct AccessLog: Sendable {
    /// HAProxy's formats, so that log parsers written for it read Fulcrum's lines.
    static let httpFormat = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"
    static let httpCLFFormat = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
    static let tcpFormat = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"

    let sink: LogSink
    let format: LogFormat
    /// `option dontlognull`: a connection that sent nothing is not logged.
    let dontLogNull: Bool
    /// `option log-separate-errors`: errors and abnormal ends go out at `err`.
    let separateErrors: Bool
    /// The frontend's open connections (`%fc`).
    let frontendConnections: ConnectionCounter
    /// The format's `%[...]` expressions that need the transaction (headers, variables,
    /// stick counters...), compiled; the connection-level ones render without it.
    let samples: [String: SampleExpression]
    /// `%lc`: the lines this frontend has logged.
    let lineCount: LineCount

    final class LineCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// The access log of `proxy`, or nil when it logs nothing (no target, or neither a
    /// format nor `option httplog`/`tcplog`).
    static func make(for proxy: ProxyConfig, global: GlobalSettings, counter: ConnectionCounter, files: PatternFiles) throws -> AccessLog? {
        var targets: [LogTarget] = []
        for target in proxy.logTargets {
            if target.destination == .global { targets += global.logTargets } else { targets.append(target) }
        }
        guard !targets.isEmpty else { return nil }
        let text: String
        if let custom = proxy.logFormat?.value {
            text = custom
        } else if proxy.options.httpLog {
            text = proxy.options.httpLogCLF ? httpCLFFormat : (proxy.mode == .http ? httpFormat : tcpFormat)
        } else if proxy.options.tcpLog {
            text = tcpFormat
        } else {
            return nil
        }
        let format: LogFormat
        do {
            format = try LogFormat(parsing: text)
        } catch {
            throw ProxyStartError("\(proxy.displayName): log-format: \(error)")
        }
        var samples: [String: SampleExpression] = [:]
        for case .sample(let expression, _) in format.nodes where !LogFormatRenderer.supportedSamples.contains(expression) && samples[expression] == nil {
            do throws(ConfigError) {
                samples[expression] = try SampleExpression(parsing: expression, files: files)
            } catch {
                throw ProxyStartError("\(proxy.displayName): log-format: \(error.message)")
            }
        }
        return AccessLog(sink: try LogSink(targets, global: global, tag: proxy.logTag), format: format,
                         dontLogNull: proxy.options.dontLogNull, separateErrors: proxy.options.logSeparateErrors,
                         frontendConnections: counter, samples: samples, lineCount: LineCount())
    }

    /// `transaction`: what the format's `%[...]` fetches read; without it they print `-`.
    /// `level`: a `set-log-level` for this request, in place of info (or err).
    /// `inout` only to set the line counter for this line (and put it back): a copy of
    /// the context (some forty fields, a dozen of them reference-counted) cost more than
    /// rendering several of them.
    func write(_ context: inout RequestLogContext, transaction: SampleContext? = nil, level: Int? = nil) {
        let abnormal = context.terminationCause != UInt8(ascii: "-") || (context.status ?? 0) >= 500
        let counter = context.logCounter
        defer { context.logCounter = counter }
        // HAProxy counts the line once it is built: the first line prints 0.
        context.logCounter = lineCount.value.add(1, ordering: .relaxed).newValue - 1
        let line = samples.isEmpty ? LogFormatRenderer.render(format, context, mergeSpaces: true)
                                   : LogFormatRenderer.render(format, context, samples: (samples, transaction ?? SampleContext()), mergeSpaces: true)
        sink.log(level: level ?? (separateErrors && abnormal ? 3 : 6), line)
    }
}
