import Dispatch
import FulcrumCore
import FulcrumProxy
import HAProxyConfig

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT stop at once; SIGUSR1 stops accepting, closes idle keep-alive
/// connections (busy ones after their response) and exits once the connections in
/// flight are done, or after `hard-stop-after` when that is set.
/// SIGTTOU releases the listening sockets (so another process can bind them) while
/// connections in flight go on; SIGTTIN binds them again.
/// Kept out of top-level code so the handlers are not main-actor isolated: they run
/// on their own dispatch queue.
enum SignalHandling {
    static func ignoreUntilInstalled() {
        for sig in [SIGUSR1, SIGTTOU, SIGTTIN] { signal(sig, SIG_IGN) }
    }

    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install(runtime: ProxyRuntime, hardStopAfter: DurationValue?) {
        let queue = DispatchQueue(label: "fulcrum.signals")
        // A parent may start us with these signals blocked (Foundation's Process does);
        // the mask is inherited, and a blocked SIGTERM would never stop Fulcrum.
        var set = sigset_t()
        sigemptyset(&set)
        let handled = [SIGTERM, SIGINT, SIGUSR1, SIGTTOU, SIGTTIN]
        for sig in handled { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in handled {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { @Sendable in
                if sig == SIGTTOU {
                    runtime.pause()
                } else if sig == SIGTTIN {
                    do {
                        _ = try runtime.start()
                    } catch {
                        Process.printError(Diagnostic.alert("SIGTTIN: \(error)").rendered(pid: Process.id))
                    }
                } else if sig == SIGUSR1 {
                    runtime.softStop()
                    let deadline: DispatchTime? = hardStopAfter.map { .now() + .milliseconds(Int($0.milliseconds)) }
                    waitForIdle(runtime, queue: queue, deadline: deadline)
                } else {
                    // As HAProxy's hard stop: connections are cut, not answered. An
                    // orderly shutdown of the event loops would close server sides
                    // first and send their clients 502s.
                    exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    private static func waitForIdle(_ runtime: ProxyRuntime, queue: DispatchQueue, deadline: DispatchTime?) {
        if runtime.activeConnections == 0 {
            runtime.shutdown()
            exit(0)
        }
        if deadline.map({ DispatchTime.now() >= $0 }) == true {
            // `hard-stop-after` passed: what is still open is cut.
            exit(0)
        }
        queue.asyncAfter(deadline: .now() + .milliseconds(50)) { @Sendable in
            waitForIdle(runtime, queue: queue, deadline: deadline)
        }
    }
}
