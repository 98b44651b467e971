#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import FulcrumHTTP1
import NIOCore
import FulcrumEventLoop
import Synchronization

/// One client connection in HTTP mode, and the server connection serving its current
/// request. Both live on the same event loop. Heads are parsed in place; a head no rule
/// changes and bodies are forwarded as slices of the buffers they arrived in. Requests
/// are served one at a time: a pipelined request waits in the input buffer until the
/// response before it is complete, so responses leave in order.
///
/// Backpressure: the client is read only while the server side can take more, and the
/// server only while the client can, so memory stays bounded whatever the body size.
final class HTTPClientSession: LoopTimer, StreamSocketDelegate {

    enum RequestPhase { case head, connecting, body, waitingResponse, tunnel, closed }
    enum ResponsePhase { case none, head, body }

    /// `%rt`: requests seen by the whole process.
    static let requestCounter = Atomic<Int>(0)

    /// The frontend's policy for its default backend, and the one of the backend the
    /// current request was routed to (`use_backend`).
    let basePolicy: HTTPProxyPolicy
    private(set) var policy: HTTPProxyPolicy
    /// The client's socket; nil once it is closed (or handed to a tunnel or the lot).
    private var client: StreamSocket?
    let loop: EpollEventLoop
    /// What ACLs and rules read for the current transaction, when the frontend has any.
    private var sample: SampleContext?

    // The object lives as long as the connection: one-byte fields come right after
    // the fields whose size is not a multiple of 8 (buffers, body trackers, optional
    // numbers), in the padding that would otherwise follow them.

    // Request side.
    private var inbound: ByteBuffer?
    private var requestPhase = RequestPhase.head {
        // A client socket left out of the epoll set while its request is served
        // (`StreamSocket.readFirst`) joins it once its input matters again.
        didSet { if needsClientEvents { client?.watch() } }
    }

    /// Whether the client socket must be watched: while a request (head or body) is
    /// read, and in a tunnel. Not while a complete request's response is awaited, when
    /// what the client does changes nothing (as HAProxy without `option abortonclose`;
    /// a reset is seen when the response is written), nor once closing (a lingering
    /// close watches it itself; bytes left to write make the socket watch itself).
    var needsClientEvents: Bool {
        requestPhase == .head || requestPhase == .body || requestPhase == .tunnel
    }
    private var scannedUpTo = 0
    private var requestBody = HTTPBodyTracker(.none)
    private var requestIsHEAD = false
    private var requestIsPOST = false
    private var requestUpgrade = false
    private var requestKeepAlive = true
    /// The request may be sent again on a fresh connection if a reused one turns out
    /// to be closed: an idempotent method and no body (a body already sent is gone).
    private var requestRetryable = false
    private var clientInputClosed = false
    private var pendingClientRead = false
    private var requestHead: ByteBuffer?
    /// A request has begun and its line is not written yet.
    private var logPending = false
    /// The request's key for a hashing `balance` (nil: none, round robin).
    private var requestHash: UInt32?
    /// The request's minor version: HTTP/1.0 or 1.1 are the only ones the parser accepts.
    private var requestVersionMinor: UInt8 = 1
    /// Whether the request's Cookie header must be rewritten (indirect, prefix), and the
    /// server its persistence cookie names.
    private var cookieEdit = false
    @PackedIndex private var cookieServer: Int? = nil
    /// The persistence cookie's dates, when it named a server (`maxidle`, `maxlife`).
    private var cookieFound: CookiePersistence.Lookup?
    private var requestsServed = 0

    // Server side.
    private var server: HTTPServerConnection?
    /// A fresh server connection whose connect() is under way (its first write pending).
    private var pendingServer: HTTPServerConnection?
    /// When the current connection attempt began, for `timeout connect`.
    private var attemptStarted: NIODeadline = .uptimeNanoseconds(0)
    private var serverIndex = 0
    private var failedServers: Set<Int> = []
    private var retryPolicy: ConnectRetryPolicy
    /// The server whose slot (`maxconn`) the current request holds.
    @PackedIndex private var slot: Int? = nil
    /// While the request waits in the backend queue: its ticket and since when.
    @PackedIndex private var ticket: Int? = nil
    private var queuedSince: NIODeadline = .uptimeNanoseconds(0)
    private var responseInbound: ByteBuffer?
    private var responsePhase = ResponsePhase.none
    private var responseScannedUpTo = 0
    /// The last transaction's byte counts, kept when its log line is reset, for the
    /// tracked stick-table entries.
    private var loggedBytes: (Int, Int)?
    private var responseBody = HTTPBodyTracker(.none)
    private var responseStarted = false
    private var serverKeepAlive = false
    private var clientKeepAlive = false
    /// Output shut, input drained and dropped until the client closes (`linger`).
    private var lingering = false

    // Timers: the session is its own loop timer, moved lazily: no allocation, no
    // closure, whatever the number of re-armings.
    private var headWaitStart: NIODeadline = .uptimeNanoseconds(0)
    private var lastClientActivity: NIODeadline = .uptimeNanoseconds(0)
    private var lastServerActivity: NIODeadline = .uptimeNanoseconds(0)
    /// When the client stopped draining what is written to it (its channel became
    /// unwritable): from then on `timeout client` counts the client's stall.
    private var clientStalledSince: NIODeadline = .uptimeNanoseconds(0)
    /// The same for the server not draining the request body.
    private var serverStalledSince: NIODeadline = .uptimeNanoseconds(0)
    /// Once closing after a last write: the moment to give up on a client that never
    /// reads it.
    @PackedDeadline private var closingDeadline: NIODeadline? = nil

    private var log: RequestLogContext
    /// The connection's two addresses as rules read them (`src`, `dst`), made by the
    /// first request that runs rules: a connection to a frontend without rules does not
    /// hold two arrays for them.
    private lazy var addressBytes: (client: [UInt8]?, frontend: [UInt8]?) = (log.clientAddress?.ipBytes, log.frontendAddress?.ipBytes)

    /// What `tcp-request connection` rules track for this connection's lifetime.
    private let connectionTrackers: [StickTracker?]
    /// The server a `use-server` or `stick match` rule chose for the current request.
    @PackedIndex private var forcedServer: Int? = nil
    /// Where `stick on`/`store-request` rules record the server once chosen.
    private var stickStores: [(StickTable, [UInt8])] = []

    /// The bind line's `name` (`so_name`), as bytes.
    private let listenerName: [UInt8]

    /// Completed when the connection is over, for the registry and the listener's
    /// counts: not the channel's close, since a parked connection changes channels.
    let ended: SessionEnd
    private var endReported = false
    /// The connection's entry in `show sess`, which a parked connection takes over.
    var registration: SessionRegistry.Registration?
    /// `tune.park-idle-clients`: the connection is parked (its socket went to a small
    /// record) and this session ends without ending the connection.
    private var handedOver = false
    /// A parked connection's next session: `started` does not begin the connection again.
    private var resumed = false
    /// The relay once the connection carries a tunnel (101): the session has let the
    /// sockets go, and `shutdown session` still ends it.
    private var tunnel: TunnelRelay?
    /// Whether the client takes what is written to it (below the high watermark).
    private var clientWritable = true
    /// The same for the server connection in use.
    private var serverWritable = true
    /// Closing waits for the client to drain the answer.
    private var afterClientDrained = false
    /// The closing connection may still receive bytes: it lingers instead of closing.
    private var closeUnread = false
    /// The listener's address when it names one (no `getsockname` per connection).
    var frontendAddress: SocketAddress?

    static let allocator = ByteBufferAllocator()
    /// The process stops gracefully: no request after the current one.
    private var stopping = false
    /// Not parked in this wait for a request (something still to write, say, or just
    /// resumed from a parked wait).
    private var parkDeclined = false
    /// Due to park, but the last response is still being written: parked once drained.
    private var parkAwaitsDrain = false

    convenience init(policy: HTTPProxyPolicy, loop: EpollEventLoop, ended: SessionEnd, connectionTrackers: [StickTracker?] = StickTracker.noSlots,
                     listenerName: String? = nil) {
        self.init(policy: policy, loop: loop, ended: ended, connectionTrackers: connectionTrackers, listenerName: listenerName.map { Array($0.utf8) } ?? [])
    }

    /// A parked connection's session when its client sends again, on a new channel.
    convenience init(resuming parked: ParkedHTTPClient, loop: EpollEventLoop) {
        self.init(policy: parked.policy, loop: loop, ended: parked.ended, connectionTrackers: parked.connectionTrackers, listenerName: parked.listenerName)
        registration = parked.registration
        resumed = true
        log.clientAddress = parked.clientAddress
        log.frontendAddress = parked.frontendAddress
        log.processID = ProxyRuntime.processID
        log.accepted = parked.accepted
        (log.acceptSeconds, log.acceptMilliseconds) = (parked.acceptSeconds, parked.acceptMilliseconds)
        requestsServed = parked.requestsServed
        headWaitStart = parked.waitStarted
        lastClientActivity = parked.waitStarted
    }

    private init(policy: HTTPProxyPolicy, loop: EpollEventLoop, ended: SessionEnd, connectionTrackers: [StickTracker?], listenerName: [UInt8]) {
        self.loop = loop
        self.ended = ended
        self.listenerName = listenerName
        self.basePolicy = policy
        self.policy = policy
        self.connectionTrackers = connectionTrackers
        self.retryPolicy = ConnectRetryPolicy(retries: policy.backend.retries, redispatch: policy.backend.redispatch)
        // Until a request is dispatched, `%b` is the frontend, as HAProxy logs it.
        self.log = RequestLogContext(frontendName: policy.frontendName)
        self.log.backendName = policy.frontendName
        super.init()
    }

    /// What `show sess` reports as this connection's backend and server.
    var liveTarget: (backend: String, server: String?) {
        (requestPhase == .head && server == nil ? "<NONE>" : policy.backend.name, server == nil ? nil : policy.backend.servers[serverIndex].name)
    }

    // MARK: - client channel events

    /// The session takes its client's socket: a new connection, or a parked one whose
    /// client sends again.
    func start(_ socket: StreamSocket) {
        client = socket
        socket.delegate = self
        started(socket)
    }

    private func started(_ socket: StreamSocket) {
        if resumed {
            // The same connection on a new channel: its timers and log go on. Woken
            // by the client, it is not parked again before its next request is served.
            resumed = false
            parkDeclined = true
            armTimer()
            return
        }
        log.clientAddress = socket.peer
        log.frontendAddress = frontendAddress ?? LocalAddress.of(socket.fd)
        log.processID = ProxyRuntime.processID
        log.takeStreamNumber()
        headWaitStart = loop.now
        lastClientActivity = headWaitStart
        log.accepted = headWaitStart
        if policy.accessLog != nil {
            let (seconds, milliseconds) = WallClock.now()
            log.acceptSeconds = seconds
            log.acceptMilliseconds = milliseconds
        }
        armTimer()
    }

    // MARK: - counters (`show stat`)

    /// Bytes forwarded to the client: the log line's `%B` and the three `bout`s.
    private func countOut(_ n: Int) {
        log.bytesOut += n
        policy.frontendCounters.bytesOut.add(n, ordering: .relaxed)
        policy.backend.counters.bytesOut.add(n, ordering: .relaxed)
        policy.backend.serverCounters[serverIndex].bytesOut.add(n, ordering: .relaxed)
    }

    /// Bytes forwarded to the server (`bin`).
    private func countIn(_ n: Int) {
        log.bytesIn += n
        policy.frontendCounters.bytesIn.add(n, ordering: .relaxed)
        policy.backend.counters.bytesIn.add(n, ordering: .relaxed)
        policy.backend.serverCounters[serverIndex].bytesIn.add(n, ordering: .relaxed)
    }

    // MARK: - access log

    /// The first byte of a request: its timers start here.
    private func requestBegins(_ now: NIODeadline) {
        guard policy.accessLog != nil, !logPending else { return }
        logPending = true
        log.takeStreamNumber()
        log.requestStarted = now
    }

    /// Writes the request's line (once), then readies the context for the next one.
    private func writeLog() {
        guard let accessLog = policy.accessLog, logPending, client != nil else { return }
        logPending = false
        if sample?.silent == true {
            nextRequestLog(loop.now)
            return
        }
        log.ended = loop.now
        log.activeConnections = policy.processConnections.value
        log.frontendConnections = accessLog.frontendConnections.value
        (log.backendConnections, log.serverConnections, log.backendQueue) = policy.backend.logCounts(server: log.connected == nil ? nil : serverIndex)
        if let s = sample, !accessLog.samples.isEmpty {
            s.serverName = Array(log.serverName.utf8)
            accessLog.write(&log, transaction: s, level: s.logLevel)
        } else {
            accessLog.write(&log, level: sample?.logLevel)
        }
        nextRequestLog(log.ended ?? loop.now)
    }

    /// As HAProxy, a later request on the connection is timed from the end of the one
    /// before (`%t`, `%Tt`, `%Tq`), and the wait in between is its idle time (`%Ti`).
    private func nextRequestLog(_ now: NIODeadline) {
        loggedBytes = (log.bytesIn, log.bytesOut)
        log.nextRequest()
        log.accepted = now
        (log.acceptSeconds, log.acceptMilliseconds) = WallClock.now()
    }

    /// An empty connection (nothing ever sent) ends: HAProxy's `CR` line, unless
    /// `dontlognull`.
    private func logEmptyConnection() {
        guard let accessLog = policy.accessLog, !accessLog.dontLogNull, requestsServed == 0, !logPending, client != nil else { return }
        requestBegins(loop.now)
        log.terminate("C", "R")
        writeLog()
    }

    /// The session lets its client socket go: closed, or handed over (parked, tunnel).
    private func released() {
        client = nil
        // A parked connection lives on without this session.
        guard !handedOver else { return }
        cancelTimer()
        reportEnd()
    }

    private func reportEnd() {
        guard !endReported else { return }
        endReported = true
        ended.finish()
    }

    func socketRead(_ socket: StreamSocket, _ data: ByteBuffer) {
        // Once closing, what still arrives is dropped, and no more is read unless the
        // close lingers (which reads to drain).
        if requestPhase == .closed {
            if !lingering {
                pendingClientRead = true
                socket.pauseReading()
            }
            return
        }
        var bytes = data
        lastClientActivity = loop.now
        if requestPhase == .head && (inbound?.readableBytes ?? 0) == 0 { requestBegins(lastClientActivity) }
        if requestPhase == .head && (inbound?.readableBytes ?? 0) == 0 && requestsServed > 0 {
            // The next request begins: `timeout http-request` now runs from here, and
            // it may end before the keep-alive timeout would have.
            headWaitStart = lastClientActivity
            armTimer()
        }
        if inbound == nil || inbound!.readableBytes == 0 {
            inbound = bytes
        } else {
            inbound!.writeBuffer(&bytes)
        }
        processRequestInput()
        inbound = Self.compacted(inbound)
        flushServer()
        // As NIO's read() after a read: go on only while the session wants input.
        if let client, !client.isClosed, !wantsClientData {
            pendingClientRead = true
            client.pauseReading()
        }
    }

    func socketInputEnded(_ socket: StreamSocket) {
        clientInputClosed = true
        if lingering {
            closeClient()
            return
        }
        switch requestPhase {
        case .head:
            // Between requests this is the normal end of a keep-alive connection; in the
            // middle of a head it is an aborted request. Either way nothing more is owed,
            // but the previous response may still be on its way out.
            if logPending {
                log.terminate("C", "R")
                writeLog()
            } else {
                logEmptyConnection()
            }
            closeClientAfterFlush()
        case .body:
            // The request body can never be completed (what had arrived was forwarded).
            log.terminate("C", "D")
            abortAfterFlush()
        case .connecting, .waitingResponse, .tunnel, .closed:
            // While connecting, the rest of the body may already be in the buffer: the
            // body phase decides once the server is there. Otherwise the response is
            // still delivered (HAProxy without `option abortonclose`).
            // The response is still delivered (HAProxy without `option abortonclose`).
            break
        }
    }

    /// Closes the client's socket (queued bytes are dropped) and ends the session.
    private func closeClient() {
        guard let client else { return }
        client.close()
        clientClosed()
    }

    func socketFailed(_ socket: StreamSocket, error: IOError) {
        clientClosed()
    }

    /// The client connection is over, whichever side ended it.
    private func clientClosed() {
        guard !handedOver else {
            released()
            return
        }
        requestPhase = .closed
        cancelTimer()
        releaseSlot()
        if logPending {
            log.terminate("C", "D")
            writeLog()
        }
        // Whatever way the connection ended, the request's stick entries are let go.
        endTracking()
        dropServer()
        released()
    }

    /// What waited for the client has been written.
    func socketDrained(_ socket: StreamSocket) {
        if parkAwaitsDrain {
            parkAwaitsDrain = false
            armTimer()
        }
        if afterClientDrained {
            afterClientDrained = false
            closeOnceDrained()
            return
        }
        clientWritabilityChanged(true)
    }

    /// Writes what was queued for the client, and notes when the client stops taking it.
    private func flushClient() {
        guard let client else { return }
        client.flush()
        if clientWritable && !client.isWritable { clientWritabilityChanged(false) }
    }

    private func clientWritabilityChanged(_ writable: Bool) {
        guard writable != clientWritable else { return }
        clientWritable = writable
        if writable {
            lastClientActivity = loop.now
            // Server reads paused for the client: the server was not idle meanwhile.
            lastServerActivity = lastClientActivity
            server?.resumeRead()
        } else {
            clientStalledSince = loop.now
        }
        armTimer()
    }

    private var wantsClientData: Bool {
        switch requestPhase {
        case .head: return true
        case .body: return server?.isWritable ?? false
        // Keep reading while a response is due (a pipelined request waits in the
        // buffer, up to one head's worth): pausing and resuming the socket for every
        // request would cost two epoll_ctl calls each.
        // The same while the server connection is being made.
        case .waitingResponse, .connecting: return (inbound?.readableBytes ?? 0) < policy.maxHeadSize
        case .tunnel: return false
        case .closed: return lingering
        }
    }

    private func resumeClientRead() {
        if pendingClientRead && wantsClientData, let client {
            pendingClientRead = false
            client.resumeReading()
        }
    }

    // MARK: - request side

    private func processRequestInput() {
        while true {
            switch requestPhase {
            case .head:
                guard let buffer = inbound, buffer.readableBytes > 0 else { return }
                guard parseRequestHead(buffer) else { return }
            case .body:
                if clientInputClosed && (inbound?.readableBytes ?? 0) == 0 {
                    // A pipelined request whose body the client will never finish.
                    abortAfterFlush()
                    return
                }
                guard var buffer = inbound, buffer.readableBytes > 0, let server else { return }
                let result = buffer.withUnsafeReadableBytes { bytes in
                    Result { () throws(HTTPParseError) in try self.requestBody.consume(bytes) }
                }
                switch result {
                case .failure:
                    fail(400)
                    return
                case .success(let progress):
                    if progress.consumed > 0 {
                        server.write(buffer.readSlice(length: progress.consumed)!)
                        countIn(progress.consumed)
                        lastServerActivity = lastClientActivity
                    }
                    inbound = buffer.readableBytes > 0 ? buffer : nil
                    if progress.finished {
                        requestPhase = .waitingResponse
                        flushServer()
                        // The flush may have found the server gone, and the session failed.
                        if responsePhase == .none && requestPhase == .waitingResponse { finishExchange() }
                    } else {
                        if clientInputClosed {
                            // The client is done sending and the body is not.
                            flushServer()
                            abortAfterFlush()
                        }
                        return
                    }
                }
            case .connecting, .waitingResponse, .tunnel, .closed:
                return
            }
        }
    }

    /// Parses the head at the start of `buffer` if it is complete; false when more
    /// bytes are needed or the request was refused.
    private func parseRequestHead(_ buffer: ByteBuffer) -> Bool {
        var buffer = buffer
        let from = scannedUpTo
        let end = buffer.withUnsafeReadableBytes { HTTPHeadParser.endOfHead($0, from: from) }
        guard let end, end <= policy.maxHeadSize else {
            scannedUpTo = buffer.readableBytes
            if buffer.readableBytes > policy.maxHeadSize {
                policy.frontendCounters.errorCapture.record(buffer, position: policy.maxHeadSize, source: log.clientAddress, bufferSize: policy.maxHeadSize)
                fail(400)
            }
            return false
        }
        scannedUpTo = 0
        let parsed = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(HTTPParseError) in try HTTPHeadParser.parseRequest(UnsafeRawBufferPointer(rebasing: bytes[..<end])) }
        }
        let head: HTTPRequestHead
        switch parsed {
        case .failure(let error):
            if error.status == 400 {
                policy.frontendCounters.errorCapture.record(buffer, position: error.offset, source: log.clientAddress, bufferSize: policy.maxHeadSize)
            }
            fail(error.status)
            return false
        case .success(let h):
            head = h
        }
        var bufferedBody: [UInt8]?
        let isPOST = buffer.withUnsafeReadableBytes { Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: $0[head.method]), "post") }
        // Only a POST to a stats page's URI waits for its body (the admin form).
        let statsPOST = isPOST && !basePolicy.statsURIs.isEmpty
            && buffer.withUnsafeReadableBytes { bytes in basePolicy.statsURIs.contains { bytes[head.target].starts(with: $0) } }
        // A client waiting for `100 Continue` would never send the body: the rules then
        // run without it rather than stall (HAProxy answers the 100 itself).
        let waitsForBody = (basePolicy.buffersRequestBody || statsPOST) && !head.expectContinue
        if waitsForBody, case .contentLength(let length) = head.framing, length > 0 {
            // `option http-buffer-request`: rules see the body, or as much of it as fits
            // in a buffer; the wait is bounded by `timeout http-request`.
            let wanted = head.length + Int(min(length, UInt64(basePolicy.maxHeadSize)))
            if buffer.readableBytes < wanted && !clientInputClosed {
                // The head is complete: only its end is scanned again next time.
                scannedUpTo = max(0, end - 4)
                return false
            }
            bufferedBody = buffer.getBytes(at: buffer.readerIndex + head.length, length: min(buffer.readableBytes, wanted) - head.length)
        } else if waitsForBody, head.framing == .chunked {
            // The same for a chunked body: until its last chunk, a buffer's worth of it
            // or the client's end; rules see the data de-chunked, the server the bytes
            // as they came.
            let held = min(buffer.readableBytes, head.length + basePolicy.maxHeadSize)
            let body = buffer.withUnsafeReadableBytes { ChunkedBodyFraming.dechunk(UnsafeRawBufferPointer(rebasing: $0[head.length..<held])) }
            if !body.finished && !body.malformed && held < head.length + basePolicy.maxHeadSize && !clientInputClosed {
                scannedUpTo = max(0, end - 4)
                return false
            }
            bufferedBody = body.data
        }
        requestIsHEAD = head.isHEAD
        requestIsPOST = isPOST
        requestUpgrade = head.upgrade
        requestVersionMinor = UInt8(head.versionMinor)
        requestBody = HTTPBodyTracker(head.framing)
        requestRetryable = head.framing == .none && head.isIdempotent
        Self.requestCounter.add(1, ordering: .relaxed)
        log.takeStreamNumber()
        policy.frontendCounters.requests.add(1, ordering: .relaxed)
        if policy.accessLog != nil, client != nil {
            // A pipelined request was already in the buffer: it begins now.
            requestBegins(loop.now)
            log.headReceived = loop.now
            let line = head.method.lowerBound..<(head.target.upperBound + 9)
            log.requestLine = buffer.withUnsafeReadableBytes { Array($0[line]) }
            if !policy.requestCaptures.isEmpty {
                log.requestCaptures = buffer.withUnsafeReadableBytes { Self.captures(policy.requestCaptures, head.headers, $0) }
            }
        }
        stampRequestTime()
        if let format = policy.uniqueIDFormat { log.uniqueID = LogFormatRenderer.render(format, log, mergeSpaces: true) }

        policy = basePolicy
        sample = nil
        if basePolicy.evaluatesRules {
            // Frontend rules, then the backend choice, then that backend's rules: each
            // sees the head as the rules before it left it.
            let s = sampleContext(buffer, head)
            s.requestBody = bufferedBody
            if let uri = basePolicy.monitorURI, s.request?.currentTarget.elementsEqual(uri) == true {
                // The monitor URI: 200 while no `monitor fail` condition holds, else 503.
                let failing = basePolicy.monitorFail.contains { $0.holds(s) }
                sample = nil
                let page = basePolicy.errorPages.pageParts(failing ? 503 : 200, for: s, log)
                // Monitor requests are not logged, as in HAProxy.
                logPending = false
                respondLocally(&buffer, head, status: failing ? 503 : 200, head: page.head, body: page.body, denied: false)
                return false
            }
            for tracker in connectionTrackers.compactMap({ $0 }) {
                tracker.table.apply([.httpRequest], to: tracker.key, now: s.milliseconds())
            }
            var outcome = HTTPRuleRunner.run(basePolicy.contentRules, response: false, s, &log, errorPages: basePolicy.errorPages)
            if case .accepted = outcome { outcome = .proceed }
            if case .proceed = outcome {
                outcome = HTTPRuleRunner.run(basePolicy.frontendRequestRules, response: false, s, &log, errorPages: basePolicy.errorPages)
                if case .accepted = outcome { outcome = .proceed }
            }
            if case .proceed = outcome, let page = basePolicy.frontendStatsPage, page.matches(s.target ?? []) {
                serveStats(page, s, &buffer, head)
                return false
            }
            if case .proceed = outcome {
                if let routes = basePolicy.routes, let chosen = routes.choose(s, &log) {
                    policy = chosen
                    s.proxies = chosen
                }
                s.backendName = policy.backendNameBytes
                s.defaultTable = policy.backendTable
                if let page = policy.backendStatsPage, page.matches(s.target ?? []) {
                    serveStats(page, s, &buffer, head)
                    return false
                }
                outcome = HTTPRuleRunner.run(policy.backendRequestRules, response: false, s, &log, errorPages: policy.errorPages)
            }
            if case .service = outcome {
                servePrometheus(s, &buffer, head)
                return false
            }
            sample = s
            if (!policy.ruleCaptures.isEmpty || !s.captures.isEmpty) && policy.accessLog != nil {
                // Every slot is printed, empty when its sample had no value.
                let headerCaptures = policy.requestCaptures.count
                if log.requestCaptures.count < headerCaptures + policy.ruleCaptures.count {
                    log.requestCaptures += [[UInt8]?](repeating: nil, count: headerCaptures + policy.ruleCaptures.count - log.requestCaptures.count)
                }
                for (slot, value) in s.captures where slot >= 0 && slot < log.requestCaptures.count {
                    let length = slot < headerCaptures ? policy.requestCaptures[slot].length : policy.ruleCaptures[slot - headerCaptures]
                    log.requestCaptures[slot] = Array(value.prefix(length))
                }
            }
            if case .reject = outcome {
                log.terminate("P", "R")
                policy.frontendCounters.deniedRequests.add(1, ordering: .relaxed)
                writeLog()
                endTracking()
                closeAll()
                return false
            }
            if case .proceed = outcome, policy === basePolicy, !basePolicy.hasDefaultBackend {
                buffer.moveReaderIndex(forwardBy: head.length)
                inbound = buffer.readableBytes > 0 ? buffer : nil
                fail(503)
                return false
            }
            if case .respond(let status, let responseHead, let responseBody, let denied, let tarpit) = outcome {
                if tarpit {
                    tarpitThenRespond(&buffer, head, status: status, head: responseHead, body: responseBody)
                } else {
                    respondLocally(&buffer, head, status: status, head: responseHead, body: responseBody, denied: denied)
                }
                return false
            }
            if let (_, server) = policy.serverSwitches.first(where: { $0.0?.holds(s) ?? true }) {
                forcedServer = server
            }
            if let persistence = policy.persistence {
                let (server, stores) = persistence.lookup(s, servers: policy.backend.servers.count)
                if forcedServer == nil { forcedServer = server }
                stickStores = stores
            }
        }
        if policy !== basePolicy {
            // Routed elsewhere: that backend's `retries` and `option redispatch`.
            retryPolicy = ConnectRetryPolicy(retries: policy.backend.retries, redispatch: policy.backend.redispatch)
        }
        requestKeepAlive = head.keepAlive && policy.connectionMode != .close
        requestHash = policy.backend.key.isNone ? nil : balanceHash(buffer, head, body: bufferedBody)
        (cookieServer, cookieEdit, cookieFound) = policy.backend.cookie.map { persistence(buffer, head, $0) } ?? (nil, false, nil)
        if policy.accessLog != nil { logCookies(buffer, head) }
        if let forced = forcedServer {
            // `use-server` comes before persistence and balancing.
            cookieServer = forced
            cookieFound = nil
            forcedServer = nil
        }

        // A head with bare LF line ends is rewritten with CRLF: a server that splits lines
        // differently would otherwise see other headers than Fulcrum checked.
        let hopByHop = head.usesBareLF || cookieEdit || hasHopByHopHeaders(buffer, head)
        // Rules that changed nothing leave the head to the unchanged-bytes path too.
        let rulesEdited = sample?.request.map { !$0.isUnchanged(headerCount: head.headers.count) } ?? false
        if !policy.alwaysEditsRequest && !rulesEdited && !hopByHop {
            // Copied: kept until the response (a retry sends it again), a slice would keep
            // the loop's whole read buffer, and the next read would need a new one. The
            // copy is one of the loop's spare buffers, given back with the response.
            var copy = loop.borrowBuffer(capacity: head.length)
            copy.writeImmutableBuffer(buffer.readSlice(length: head.length)!)
            requestHead = copy
        } else {
            let original = buffer.readBytes(length: head.length)!
            requestHead = editedRequestHead(original, head)
        }
        inbound = buffer.readableBytes > 0 ? buffer : nil
        requestPhase = .connecting
        dispatch()
        return true
    }

    /// The first value of each captured header, cut at its `len`.
    static func captures(_ wanted: [(name: [UInt8], length: Int)], _ headers: [HTTPHeaderField], _ bytes: UnsafeRawBufferPointer) -> [[UInt8]?] {
        wanted.map { capture in
            firstValue(of: capture.name, headers, bytes).map { Array(bytes[$0].prefix(capture.length)) }
        }
    }

    /// Where the first header named `lowercased` has its value; names are compared
    /// without copying them.
    static func firstValue(of lowercased: [UInt8], _ headers: [HTTPHeaderField], _ bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        headers.first { field in
            guard field.name.count == lowercased.count else { return false }
            var k = 0
            for i in field.name {
                var b = bytes[i]
                if b >= 65 && b <= 90 { b += 32 }
                if b != lowercased[k] { return false }
                k += 1
            }
            return true
        }?.value
    }

    /// `capture cookie` and the request's cookie state for `%tsc` (HAProxy keeps no
    /// state for a passive cookie).
    private func logCookies(_ buffer: ByteBuffer, _ head: HTTPRequestHead) {
        let cookie = policy.backend.cookie, capture = policy.captureCookie
        guard cookie != nil || capture != nil else { return }
        var present = false
        buffer.withUnsafeReadableBytes { bytes in
            for field in head.headers where field.name.count == 6 && Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[field.name]), "cookie") {
                let value = Array(bytes[field.value])[...]
                if let capture, log.requestCookie == nil { log.requestCookie = capture.captureRequest(value) }
                if cookie?.isPresent(in: value) == true { present = true }
            }
        }
        guard let cookie, cookie.mode != .passive else { return }
        log.cookieState = UInt8(ascii: cookieServer != nil ? "V" : present ? "I" : "N")
        log.setCookieState = UInt8(ascii: "N")
    }

    /// The server named by the request's persistence cookie, and whether its Cookie
    /// header changes on the way (`indirect`, `prefix`).
    private func persistence(_ buffer: ByteBuffer, _ head: HTTPRequestHead, _ cookie: CookiePersistence) -> (Int?, Bool, CookiePersistence.Lookup?) {
        let now = Self.wallSeconds()
        return buffer.withUnsafeReadableBytes { bytes in
            var found: CookiePersistence.Lookup? = nil
            var edit = false
            for field in head.headers where field.name.count == 6 && Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[field.name]), "cookie") {
                let lookup = cookie.lookup(Array(bytes[field.value])[...], now: now)
                if lookup.server != nil { found = lookup }
                if lookup.forward != nil { edit = true }
            }
            return (found?.server, edit, found)
        }
    }

    /// Insert mode: the `Set-Cookie` value for this response, when the request's cookie
    /// named another server (or none), or its dates are due for a refresh.
    private func cookieToInsert(_ cookie: CookiePersistence) -> [UInt8]? {
        guard cookie.mode == .insert, !cookie.postOnly || requestIsPOST else { return nil }
        let now = Self.wallSeconds()
        if cookieServer == serverIndex {
            guard let found = cookieFound, cookie.needsRefresh(found, now: now) else { return nil }
            return cookie.insertedCookie(for: serverIndex, now: now, firstDate: found.firstDate)
        }
        return cookie.insertedCookie(for: serverIndex, now: now)
    }

    /// The hash of what `balance source|uri|url_param|hdr|hash` looks at in this
    /// request (`body`: its first bytes, when buffered).
    private func balanceHash(_ buffer: ByteBuffer, _ head: HTTPRequestHead, body: [UInt8]?) -> UInt32? {
        let backend = policy.backend
        switch backend.key {
        case .none, .rdpCookie:
            return nil
        case .expression(let expression):
            let s = sample ?? sampleContext(buffer, head)
            if s.requestBody == nil { s.requestBody = body }
            return expression.value(in: s).map { backend.hash(BalanceKey.binary($0, of: expression)) }
        case .source:
            return log.clientAddress?.ipBytes.map { backend.sourceHash($0) }
        case .uri(let length, let depth, let whole, let pathOnly):
            let target = buffer.withUnsafeReadableBytes { Array($0[head.target]) }
            return backend.hash(BalanceKey.uriKey(target, length: length, depth: depth, whole: whole, pathOnly: pathOnly))
        case .urlParameter(let name, let checkPost):
            let target = buffer.withUnsafeReadableBytes { Array($0[head.target]) }
            if let value = BalanceKey.queryParameter(target, name) { return backend.hash(value) }
            // check_post: a POST's form body, when the query string has no such parameter.
            guard checkPost, let body, buffer.withUnsafeReadableBytes({ Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: $0[head.method]), "post") }) else { return nil }
            return BalanceKey.formParameter(body, name).map { backend.hash($0) }
        case .header(let name, let domainOnly):
            let value: [UInt8]? = buffer.withUnsafeReadableBytes { bytes in
                Self.firstValue(of: Array(name.lowercased().utf8), head.headers, bytes).map { Array(bytes[$0]) }
            }
            guard let value else { return nil }
            return backend.hash(domainOnly ? BalanceKey.domainOnly(value) : value)
        }
    }

    /// An `Upgrade` header without `Connection: upgrade` is not an upgrade request: it
    /// is dropped rather than passed on to a server that might act on it.
    private func hasHopByHopHeaders(_ buffer: ByteBuffer, _ head: HTTPRequestHead) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            head.headers.contains { field in
                let n = field.name.count
                let name = UnsafeRawBufferPointer(rebasing: bytes[field.name])
                if n == 7 && !head.upgrade { return Self.equalsIgnoringCase(name, "upgrade") }
                guard n == 10 || n == 16 else { return false }
                return Self.isHopByHop(name)
            }
        }
    }

    static func isHopByHop(_ name: UnsafeRawBufferPointer) -> Bool {
        equalsIgnoringCase(name, "connection") || equalsIgnoringCase(name, "keep-alive") || equalsIgnoringCase(name, "proxy-connection")
    }

    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let p = lowercase.utf8Start
        for k in 0..<bytes.count {
            var b = bytes[k]
            if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b += 32 }
            if b != p[k] { return false }
        }
        return true
    }

    private func editedRequestHead(_ original: [UInt8], _ head: HTTPRequestHead) -> ByteBuffer {
        let requestLine = head.method.lowerBound..<(head.target.upperBound + 9)
        var editor = sample?.request ?? HTTPHeadEditor(bytes: original, startLine: requestLine, target: head.target, headers: head.headers)
        HopByHop.strip(&editor, keepUpgrade: head.upgrade)
        if cookieEdit, let cookie = policy.backend.cookie {
            editor.replaceValues(of: "cookie") { cookie.inspect($0).forward }
            editor.fields = editor.fields.filter { !(editor.matches($0, "cookie") && editor.value(of: $0).isEmpty) }
        }
        if head.upgrade {
            editor.add(HTTPHeadEditor.connectionName, HTTPHeadEditor.upgradeValue)
        } else if policy.connectionMode != .keepAlive {
            editor.add(HTTPHeadEditor.connectionName, HTTPHeadEditor.closeValue)
        }
        // HAProxy's order: the rules (already run), then the unique ID header, then X-Forwarded-For.
        if let name = policy.uniqueIDHeaderName { editor.add(name, log.uniqueID) }
        if let name = policy.forwardForHeader, !(policy.forwardForExcept?.contains(log.clientAddress) ?? false),
           !(policy.forwardForIfNone && editor.contains(name)) {
            var ip: [UInt8] = []
            LogFormatRenderer.address(log.clientAddress, hex: false, into: &ip)
            editor.add(name, ip)
        }
        var out = Self.allocator.buffer(capacity: original.count + 256)
        editor.serialize { out.writeBytes($0) }
        return out
    }

    /// The transaction is over for the stick tables: a 4xx counts as an HTTP error on
    /// every tracked entry, and what the request itself tracked is let go.
    private func endTracking() {
        let (bytesIn, bytesOut) = loggedBytes ?? (log.bytesIn, log.bytesOut)
        loggedBytes = nil
        // Without an access log nothing resets the log's counts between transactions.
        if policy.accessLog == nil { (log.bytesIn, log.bytesOut) = (0, 0) }
        guard let s = sample else { return }
        sample = nil
        let now = s.milliseconds()
        // A 4xx, or a request Fulcrum refused itself (deny, tarpit), is an HTTP error.
        let error = ((log.status ?? 0) >= 400 && (log.status ?? 0) < 500) || log.terminationCause == UInt8(ascii: "P")
        for tracker in s.trackers.compactMap({ $0 }) {
            // The transaction's bytes: client to server (`bytes_in_*`) and back (`bytes_out_*`).
            var events: [StickTable.Event] = [.bytesIn(bytesIn), .bytesOut(bytesOut)]
            if error { events.append(.httpError) }
            if !tracker.connectionLevel { events.append(.trackEnd) }
            if !events.isEmpty { tracker.table.apply(events, to: tracker.key, now: now) }
        }
    }

    /// The sample context of a request whose head was just parsed.
    private func sampleContext(_ buffer: ByteBuffer, _ head: HTTPRequestHead) -> SampleContext {
        let s = SampleContext()
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: head.length) ?? []
        let requestLine = head.method.lowerBound..<(head.target.upperBound + 9)
        s.request = HTTPHeadEditor(bytes: bytes, startLine: requestLine, target: head.target, headers: head.headers)
        s.requestLength = buffer.readableBytes
        s.client = addressBytes.client
        s.clientPort = log.clientAddress?.port ?? 0
        s.destination = addressBytes.frontend
        s.destinationPort = log.frontendAddress?.port ?? 0
        s.frontendName = basePolicy.frontendNameBytes
        s.listenerName = listenerName
        s.backendName = basePolicy.backendNameBytes
        s.uniqueID = log.uniqueID
        s.tables = basePolicy.stickTables
        s.userlists = basePolicy.userlists
        s.patternFiles = basePolicy.patternFiles
        s.defaultTable = basePolicy.frontendTable
        s.trackers = connectionTrackers
        s.milliseconds = SampleContext.monotonicMilliseconds
        s.now = Self.wallSeconds
        s.environment = Self.environmentVariable
        s.firstRequest = requestsServed == 0
        s.proxies = basePolicy
        return s
    }

    static let wallSeconds: @Sendable () -> Int64 = { Int64(time(nil)) }
    static let environmentVariable: @Sendable (String) -> String? = { name in getenv(name).map { String(cString: $0) } }

    /// `be_conn`, `queue`, `connslots`, `fe_conn`, `srv_conn`, `srv_is_up` for a named
    /// backend (or `backend/server`), or the current one.

    /// Answers a request with a response of Fulcrum's own (`deny`, `redirect`,
    /// `return`). The connection stays open for the next request when the request has
    /// no body to skip and asked to stay open, as HAProxy keeps it.
    private func respondLocally(_ buffer: inout ByteBuffer, _ head: HTTPRequestHead, status: Int, head original: [UInt8], body: [UInt8], denied: Bool) {
        guard let client else { return }
        let (responseHead, status) = afterResponse(original, status: status)
        buffer.moveReaderIndex(forwardBy: head.length)
        inbound = buffer.readableBytes > 0 ? buffer : nil
        if denied { log.terminate("P", "R") } else { log.terminate("L", "R") }
        log.status = status
        policy.frontendCounters.countResponse(status)
        if denied { policy.frontendCounters.deniedRequests.add(1, ordering: .relaxed) }
        // An errorfile without a length (Debian's stock pages: HTTP/1.0, `Connection:
        // close`) can only end with the connection.
        clientKeepAlive = !stopping && head.keepAlive && policy.connectionMode != .close && head.framing == .none && Self.keepsConnection(responseHead)
        var out = Self.allocator.buffer(capacity: responseHead.count + body.count + 24)
        if head.versionMinor == 0 && clientKeepAlive {
            out.writeBytes(responseHead.dropLast(2))
            out.writeString("connection: keep-alive\r\n\r\n")
        } else if clientKeepAlive || head.versionMinor == 0 || Self.headHas(responseHead, "\nconnection:") {
            // An errorfile saying how the connection ends is sent byte for byte.
            out.writeBytes(responseHead)
        } else {
            out.writeBytes(responseHead.dropLast(2))
            out.writeString("connection: close\r\n\r\n")
        }
        if !head.isHEAD { out.writeBytes(body) }
        log.bytesOut += out.readableBytes
        client.enqueue(out)
        responseStarted = true
        requestPhase = .waitingResponse
        finishExchange()
    }

    /// The statistics page answers; the log names its server `<STATS>`, as HAProxy's.
    private func serveStats(_ page: StatsPage, _ s: SampleContext, _ buffer: inout ByteBuffer, _ head: HTTPRequestHead) {
        sample = s
        log.serverName = "<STATS>"
        guard client != nil else { return }
        let answer = page.answer(s, log, errorPages: policy.errorPages, loop: loop)
        respondLocally(&buffer, head, status: answer.status, head: answer.head, body: answer.body, denied: false)
    }

    /// `use-service prometheus-exporter`: the metrics, limited by `?scope=` parameters
    /// and `no-maint`, as HAProxy's exporter reads them.
    private func servePrometheus(_ s: SampleContext, _ buffer: inout ByteBuffer, _ head: HTTPRequestHead) {
        sample = s
        log.serverName = "<PROMEX>"
        guard let stats = policy.services.current?.stats else {
            let page = policy.errorPages.pageParts(503, for: s, log)
            respondLocally(&buffer, head, status: 503, head: page.head, body: page.body, denied: false)
            return
        }
        var scopes: Set<String> = []
        var noMaint = false
        let target = s.request?.currentTarget ?? []
        if let question = target.firstIndex(of: UInt8(ascii: "?")) {
            for pair in target[(question + 1)...].split(separator: UInt8(ascii: "&")) {
                let text = String(decoding: pair, as: UTF8.self)
                if text.hasPrefix("scope=") { scopes.insert(String(text.dropFirst(6))) } else if text == "no-maint" { noMaint = true }
            }
        }
        let body = Array(PrometheusExporter.render(stats, scopes: scopes, noMaint: noMaint).utf8)
        let responseHead = HTTPRuleRunner.head(200, "OK", [("content-type", Array("text/plain; version=0.0.4".utf8)),
                                                            ("cache-control", Array("no-cache".utf8))], body.count)
        respondLocally(&buffer, head, status: 200, head: responseHead, body: body, denied: false)
    }

    /// Whether a response head Fulcrum sends lets the connection stay open: it has a
    /// Content-Length and does not say `Connection: close`.
    static func keepsConnection(_ head: [UInt8]) -> Bool {
        headHas(head, "\ncontent-length:") && !headHas(head, "\nconnection: close")
    }

    /// Whether a head contains `text` (lower case), case-insensitively. Bytes, not a
    /// String: "\r\n" is one Character there, so "\nname" would never match.
    static func headHas(_ head: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard head.count >= needle.count else { return false }
        return (0...(head.count - needle.count)).contains { start in
            var k = 0
            while k < needle.count {
                let b = head[start + k]
                if (b >= 65 && b <= 90 ? b + 32 : b) != needle[k] { return false }
                k += 1
            }
            return true
        }
    }

    /// A response rule answered instead of the server: the server connection goes (its
    /// response is not read further), the client gets the answer, then the connection
    /// closes, since the rest of the request may still be on its way.
    private func answerInPlaceOfServer(status: Int, head: [UInt8], body: [UInt8], denied: Bool) {
        guard let client else { return }
        dropServer()
        responseInbound = nil
        log.status = status
        log.terminate(denied ? "P" : "L", "H")
        if denied { policy.frontendCounters.deniedResponses.add(1, ordering: .relaxed) }
        policy.frontendCounters.countResponse(status)
        var out = Self.allocator.buffer(capacity: head.count + body.count + 24)
        out.writeBytes(head.dropLast(2))
        out.writeString("connection: close\r\n\r\n")
        if !requestIsHEAD { out.writeBytes(body) }
        countOut(out.readableBytes)
        responseStarted = true
        responsePhase = .none
        requestPhase = .closed
        releaseSlot()
        writeLog()
        endTracking()
        client.enqueue(out)
        closeClientAfterFlush()
    }

    /// `tarpit`: nothing more is read; after `timeout tarpit` the answer is sent and
    /// the connection closed, so a client hammering a URL waits for each refusal.
    private func tarpitThenRespond(_ buffer: inout ByteBuffer, _ head: HTTPRequestHead, status: Int, head responseHead: [UInt8], body: [UInt8]) {
        guard client != nil else { return }
        buffer.moveReaderIndex(forwardBy: head.length)
        inbound = nil
        requestPhase = .closed
        cancelTimer()
        log.terminate("P", "T")
        log.status = status
        policy.frontendCounters.deniedRequests.add(1, ordering: .relaxed)
        let session = NIOLoopBound(self, eventLoop: loop)
        _ = loop.scheduleTask(in: policy.tarpitTimeout) {
            let me = session.value
            guard let client = me.client else { return }
            me.policy.frontendCounters.countResponse(status)
            me.writeLog()
            me.endTracking()
            var out = Self.allocator.buffer(capacity: responseHead.count + body.count + 24)
            out.writeBytes(responseHead.dropLast(2))
            out.writeString("connection: close\r\n\r\n")
            if !head.isHEAD { out.writeBytes(body) }
            me.responseStarted = true
            client.enqueue(out)
            me.closeClientAfterFlush()
        }
    }

    /// Without an access log the accept date is not kept: the request's own moment
    /// stands in for it (unique IDs, date fetches). With one, it stays HAProxy's accept date.
    private func stampRequestTime() {
        guard policy.accessLog == nil else { return }
        guard policy.uniqueIDFormat != nil || policy.evaluatesRules || !policy.responseRules.isEmpty else { return }
        (log.acceptSeconds, log.acceptMilliseconds) = WallClock.now()
    }

    // MARK: - choosing and reaching a server

    private func dispatch() {
        guard client != nil else { return }
        log.backendName = policy.backend.name
        let session = NIOLoopBound(self, eventLoop: loop)
        let grant: BackendPool.Grant = { ticket, server in
            session.eventLoop.execute { session.value.granted(ticket, server) }
        }
        var (outcome, ticket) = (ServerSlots<AnyBalancer>.Outcome.noServer, 0)
        if let persistent = cookieServer, !failedServers.contains(persistent) {
            // The cookie's server, if it can take the request (else balance as usual).
            (outcome, ticket) = policy.backend.acquire(only: persistent, grant: grant)
            if outcome == .noServer && log.cookieState == UInt8(ascii: "V") { log.cookieState = UInt8(ascii: "D") }
        }
        if outcome == .noServer {
            (outcome, ticket) = policy.backend.acquire(excluding: failedServers, hash: requestHash, grant: grant)
        }
        if outcome == .noServer && !failedServers.isEmpty {
            (outcome, ticket) = policy.backend.acquire(excluding: [], hash: requestHash, grant: grant)
        }
        switch outcome {
        case .granted(let server):
            slot = server
            trackSession(server)
            use(server)
        case .queued:
            // Every server is at its maxconn: wait for a slot, up to `timeout queue`.
            self.ticket = ticket
            queuedSince = loop.now
            log.queueStarted = queuedSince
            armTimer()
        case .noServer:
            fail(503)
        }
    }

    private func granted(_ ticket: Int, _ server: Int) {
        guard self.ticket == ticket, requestPhase == .connecting else {
            policy.backend.release(server)
            return
        }
        self.ticket = nil
        slot = server
        trackSession(server)
        use(server)
    }

    /// Listed under `server` for its `shutdown-sessions`, which then cuts the session.
    private func trackSession(_ server: Int) {
        guard policy.backend.tracks(server) else { return }
        let me = NIOLoopBound(self, eventLoop: loop)
        policy.backend.track(server, id: ObjectIdentifier(self)) { me.eventLoop.execute { me.value.cut() } }
    }

    /// Gives back the slot (or the place in the queue) of the current request.
    private func releaseSlot() {
        if let server = slot {
            slot = nil
            policy.backend.release(server)
            policy.backend.untrack(server, ObjectIdentifier(self))
        }
        if let ticket {
            self.ticket = nil
            _ = policy.backend.cancel(ticket)
        }
    }

    /// Sends the request to `index`, on an idle connection when reuse allows.
    private func use(_ index: Int) {
        if !stickStores.isEmpty {
            StickPersistence.record(index, stickStores)
            stickStores = []
        }
        guard client != nil else { return }
        policy.backend.countPick(index)
        log.queueEnded = loop.now
        if log.queueStarted == nil { log.queueStarted = log.queueEnded }
        let mayReuse = policy.reuse == .always || (policy.reuse == .safe && requestsServed > 0)
        if mayReuse, let idle = policy.backend.idle.take(server: index, on: loop) {
            log.connectStarted = log.queueEnded
            attach(idle, index: index)
        } else {
            connect(index)
        }
    }

    private func connect(_ index: Int) {
        guard client != nil else { return }
        if log.connectStarted == nil { log.connectStarted = loop.now } else { log.retries += 1 }
        let backend = policy.backend
        let address = backend.addresses.target(index).address(clientLocalPort: log.frontendAddress?.port)
        guard let head = requestHead else { return }
        let opened: (fd: CInt, connecting: Bool)
        switch ServerSocketOpener.open(address, delayHandshakeACK: backend.smartConnect) {
        case .success(let result): opened = result
        case .failure(let error):
            connectFailed(index, error)
            return
        }
        let connection = HTTPServerConnection(server: index, idleSet: backend.idle)
        connection.target = address
        do {
            try connection.adopt(opened.fd, connecting: opened.connecting, on: loop)
        } catch {
            connectFailed(index, error)
            return
        }
        pendingServer = connection
        attemptStarted = loop.now
        connection.sendFirst(head) { error in self.connectionAttempt(connection, ended: error) }
        // On loopback the connection is often established within a turn: only a
        // connect still under way needs its timer.
        if pendingServer === connection { armTimer() }
    }

    /// A server connection's first write completed (nil: it is established) or failed.
    private func connectionAttempt(_ connection: HTTPServerConnection, ended error: Error?) {
        guard pendingServer === connection, requestPhase == .connecting else {
            // The session moved on meanwhile (answered, aborted, timed out), unless the
            // connect timer found it connected and already uses it (a write failing
            // from here on closes the channel, which the session hears as a server close).
            if connection !== server { connection.close() }
            return
        }
        pendingServer = nil
        if let error {
            connection.close()
            connectFailed(connection.server, error)
        } else {
            attach(connection, index: connection.server, headSent: true)
        }
    }

    /// Counts a failed connection attempt, then retries, redispatches or answers 503.
    private func connectFailed(_ index: Int, _ error: Error) {
        guard requestPhase == .connecting else { return }
        let backend = policy.backend
        backend.observe(index, ok: false, HealthChecker.connectFailure(error).status == .l4timeout ? "L4 timeout" : "L4 unsuccessful connection")
        failedServers.insert(index)
        backend.counters.connectErrors.add(1, ordering: .relaxed)
        backend.serverCounters[index].connectErrors.add(1, ordering: .relaxed)
        switch retryPolicy.afterFailure() {
        case .retrySameServer:
            backend.counters.retries.add(1, ordering: .relaxed)
            backend.serverCounters[index].retries.add(1, ordering: .relaxed)
            connect(index)
        case .redispatch:
            log.redispatched = true
            releaseSlot()
            dispatch()
        case .giveUp:
            fail(503)
        }
    }

    /// Lets go of the server connection in use, and of one still connecting.
    private func dropServer() {
        if let server {
            self.server = nil
            server.close()
        }
        if let pendingServer {
            self.pendingServer = nil
            pendingServer.close()
        }
    }

    /// `headSent`: the head already went as the connection's first write.
    private func attach(_ connection: HTTPServerConnection, index: Int, headSent: Bool = false) {
        connection.attach(self)
        server = connection
        serverWritable = true
        serverIndex = index
        log.serverName = policy.backend.servers[index].name
        log.connected = client != nil ? loop.now : nil
        if policy.accessLog != nil { (log.serverLocalAddress, log.serverAddress) = connection.addresses }
        responsePhase = .head
        responseStarted = false
        responseInbound = nil
        responseScannedUpTo = 0
        if let head = requestHead {
            countIn(head.readableBytes)
            if !headSent { connection.write(head) }
        }
        requestPhase = requestBody.isFinished ? .waitingResponse : .body
        if client != nil { lastServerActivity = loop.now }
        processRequestInput()
        flushServer()
        armTimer()
        resumeClientRead()
        connection.resumeRead()
    }

    // MARK: - response side

    /// Between responses the server connection keeps reading: bytes there are an
    /// error that ends its reuse, and pausing then resuming the socket around each
    /// response would cost two epoll_ctl calls.
    var wantsServerData: Bool {
        responsePhase == .none || (client?.isWritable ?? false)
    }

    func serverRead(_ data: ByteBuffer) {
        var data = data
        if client != nil { lastServerActivity = loop.now }
        if responsePhase == .none {
            // Bytes nobody asked for: this connection cannot be trusted with another request.
            serverKeepAlive = false
            return
        }
        if responseInbound == nil || responseInbound!.readableBytes == 0 {
            responseInbound = data
        } else {
            responseInbound!.writeBuffer(&data)
        }
        processResponseInput()
        responseInbound = Self.compacted(responseInbound)
    }

    /// Bytes kept past a read (a partial head, a pipelined request, a body the other
    /// side cannot take yet) are copied out of the loop's 64 KiB read buffer when they
    /// are a small part of it: a slice would keep the whole buffer alive.
    private static func compacted(_ kept: ByteBuffer?) -> ByteBuffer? {
        guard let kept else { return nil }
        guard kept.readableBytes > 0 else { return nil }
        guard kept.capacity >= 16384, kept.readableBytes <= kept.capacity / 4 else { return kept }
        var copy = allocator.buffer(capacity: kept.readableBytes)
        copy.writeImmutableBuffer(kept)
        return copy
    }

    func serverReadComplete() {
        flushClient()
    }

    /// Writes what was queued for the server, and notes when the server stops taking it.
    private func flushServer() {
        guard let server else { return }
        server.flush()
        if serverWritable, self.server === server, !server.isWritable { serverWritabilityChanged(false) }
    }

    func serverWritabilityChanged(_ writable: Bool) {
        serverWritable = writable
        guard client != nil else { return }
        let now = loop.now
        if writable {
            // Client reads paused for the server: the client was not idle meanwhile.
            lastClientActivity = now
            lastServerActivity = now
            resumeClientRead()
        } else {
            serverStalledSince = now
        }
        armTimer()
    }

    private func processResponseInput() {
        // An unchanged response head still at the front of `responseInbound`, written
        // together with the body bytes that follow it (set and used in one pass).
        var heldHeadLength = 0
        while let client {
            switch responsePhase {
            case .none:
                responseInbound = nil
                return
            case .head:
                guard var buffer = responseInbound, buffer.readableBytes > 0 else { return }
                let from = responseScannedUpTo
                let end = buffer.withUnsafeReadableBytes { HTTPHeadParser.endOfHead($0, from: from) }
                guard let end, end <= policy.maxHeadSize else {
                    responseScannedUpTo = buffer.readableBytes
                    if buffer.readableBytes > policy.maxHeadSize { serverFailed(502) }
                    return
                }
                responseScannedUpTo = 0
                let isHEAD = requestIsHEAD
                let parsed = buffer.withUnsafeReadableBytes { bytes in
                    Result { () throws(HTTPParseError) in
                        try HTTPHeadParser.parseResponse(UnsafeRawBufferPointer(rebasing: bytes[..<end]), requestWasHEAD: isHEAD)
                    }
                }
                guard case .success(let head) = parsed else {
                    policy.backend.observe(serverIndex, ok: policy.backend.observedLayer[serverIndex] == 4, "L7 invalid response")
                    serverFailed(502)
                    return
                }
                loop.recycle(&requestHead)
                if head.isInterim {
                    // 100 Continue and friends pass through; the final response follows.
                    client.enqueue(buffer.readSlice(length: head.length)!)
                    responseInbound = buffer
                    continue
                }
                if head.switchesProtocols {
                    guard requestUpgrade else {
                        // Switching protocols nobody asked for: the server and the client
                        // would no longer agree on what the bytes are.
                        serverFailed(502)
                        return
                    }
                    log.status = head.status
                    log.responseHeadReceived = loop.now
                    countOut(head.length)
                    client.enqueue(buffer.readSlice(length: head.length)!)
                    responseInbound = buffer
                    switchToTunnel()
                    return
                }
                responseStarted = true
                // `observe layer7`: a 5xx (but 501 and 505, the client's fault) is an error.
                let serverError = head.status >= 500 && head.status != 501 && head.status != 505
                policy.backend.observe(serverIndex, ok: !serverError || policy.backend.observedLayer[serverIndex] == 4, "L7 \(head.status) status")
                serverKeepAlive = head.keepAlive && policy.connectionMode == .keepAlive && policy.reuse != .never
                clientKeepAlive = requestKeepAlive && head.framing != .untilClose && !stopping
                if !policy.responseCaptures.isEmpty && policy.accessLog != nil {
                    log.responseCaptures = buffer.withUnsafeReadableBytes { Self.captures(policy.responseCaptures, head.headers, $0) }
                }
                if let capture = policy.captureCookie, policy.accessLog != nil {
                    log.responseCookie = buffer.withUnsafeReadableBytes { bytes in
                        head.headers.lazy.filter { $0.name.count == 10 && Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[$0.name]), "set-cookie") }
                            .compactMap { capture.captureResponse(bytes[$0.value]) }.first
                    }
                }
                sample?.status = head.status
                guard let forwarded = responseHeadBytes(&buffer, head) else { return }
                log.status = head.status
                log.responseHeadReceived = loop.now
                policy.frontendCounters.countResponse(head.status)
                policy.backend.counters.countResponse(head.status)
                policy.backend.serverCounters[serverIndex].countResponse(head.status)
                responseBody = HTTPBodyTracker(head.framing)
                switch forwarded {
                case .edited(let edited):
                    countOut(edited.readableBytes)
                    client.enqueue(edited)
                case .unchanged:
                    countOut(head.length)
                    if responseBody.isFinished || buffer.readableBytes == head.length {
                        client.enqueue(buffer.readSlice(length: head.length)!)
                    } else {
                        // The body's first bytes are in the same buffer: one write for both.
                        heldHeadLength = head.length
                    }
                }
                responsePhase = .body
                responseInbound = buffer
                if responseBody.isFinished { responseComplete() }
            case .body:
                guard var buffer = responseInbound, buffer.readableBytes > 0 else { return }
                let held = heldHeadLength
                heldHeadLength = 0
                let result = buffer.withUnsafeReadableBytes { bytes in
                    Result { () throws(HTTPParseError) in try self.responseBody.consume(UnsafeRawBufferPointer(rebasing: bytes[held...])) }
                }
                guard case .success(let progress) = result else {
                    // Broken framing mid-body: the client cannot be told; cut both sides.
                    flushClient()
                    closeAll()
                    return
                }
                if progress.consumed > 0 || held > 0 {
                    countOut(progress.consumed)
                    client.enqueue(buffer.readSlice(length: held + progress.consumed)!)
                }
                responseInbound = buffer
                guard progress.finished else { return }
                responseComplete()
            }
        }
    }

    /// The head to forward, or nil when a response rule answered in the server's
    /// place (`http-response deny`, `return`, `redirect`): that answer is sent instead
    /// and the server's response dropped with its connection.
    /// The head to send: `.unchanged` leaves it in `buffer` (it goes out with the body
    /// bytes that follow it, in one write), `.edited` is a new head (the original is
    /// consumed); nil when a rule answered in the server's place.
    private enum ForwardedHead { case unchanged, edited(ByteBuffer) }

    private func responseHeadBytes(_ buffer: inout ByteBuffer, _ head: HTTPResponseHead) -> ForwardedHead? {
        // Hop-by-hop headers go, except a lone `Connection: keep-alive` on a connection
        // that stays open: it says what is true, and keeping it spares rewriting the
        // head of every keep-alive response (servers such as nginx always send it).
        var hopByHop = false, saysKeepAlive = false
        buffer.withUnsafeReadableBytes { bytes in
            for field in head.headers where (field.name.count == 10 || field.name.count == 16)
                && Self.isHopByHop(UnsafeRawBufferPointer(rebasing: bytes[field.name])) {
                if field.name.count == 10 && Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[field.value]), "keep-alive") {
                    saysKeepAlive = true
                } else {
                    hopByHop = true
                }
            }
        }
        if saysKeepAlive && !clientKeepAlive { hopByHop = true }
        // What the client must be told about the connection: HTTP/1.1 persists unless
        // told otherwise, HTTP/1.0 closes unless told otherwise.
        let needsClose = !clientKeepAlive && requestVersionMinor == 1
        let needsKeepAlive = clientKeepAlive && requestVersionMinor == 0
        let cookieWork = cookieResponseWork(buffer, head)
        let storesResponse = policy.persistence?.storesResponses ?? false
        guard hopByHop || head.usesBareLF || needsClose || (needsKeepAlive && !saysKeepAlive) || cookieWork || !policy.responseRules.isEmpty
                || storesResponse else {
            return .unchanged
        }
        let original = buffer.readBytes(length: head.length)!
        let statusLineEnd = original.firstIndex(of: UInt8(ascii: "\n")).map { $0 > 0 && original[$0 - 1] == 13 ? $0 - 1 : $0 } ?? 0
        var editor = HTTPHeadEditor(bytes: original, startLine: 0..<statusLineEnd, target: nil, headers: head.headers)
        // `Upgrade` in a final response (a 426, say) advertises protocols: it stays.
        HopByHop.strip(&editor, keepUpgrade: true)
        if cookieWork, let cookie = policy.backend.cookie {
            switch cookie.mode {
            case .insert:
                if !cookie.preserve {
                    let count = editor.fields.count
                    editor.fields = editor.fields.filter { !(editor.matches($0, "set-cookie") && cookie.setsOurCookie(editor.value(of: $0))) }
                    if editor.fields.count < count { log.setCookieState = UInt8(ascii: "D") }
                }
                if let inserted = cookieToInsert(cookie) {
                    editor.add("Set-Cookie", inserted)
                    if cookie.nocache { editor.add("Cache-Control", Array("private".utf8)) }
                    log.setCookieState = UInt8(ascii: "I")
                }
            case .rewrite, .prefix:
                let server = serverIndex
                editor.replaceValues(of: "set-cookie") { cookie.rewriteSetCookie($0, server: server) }
                // Only a server that sets the cookie brings a response here.
                log.setCookieState = UInt8(ascii: "R")
            case .passive:
                break
            }
        }
        if needsClose { editor.add(HTTPHeadEditor.connectionName, HTTPHeadEditor.closeValue) }
        if needsKeepAlive { editor.add(HTTPHeadEditor.connectionName, HTTPHeadEditor.keepAliveValue) }
        if !policy.responseRules.isEmpty {
            let s = sample ?? SampleContext()
            s.response = editor
            s.status = head.status
            s.serverName = Array(policy.backend.servers[serverIndex].name.utf8)
            let outcome = HTTPRuleRunner.run(policy.responseRules, response: true, s, &log, errorPages: policy.errorPages)
            editor = s.response ?? editor
            for (slot, value) in s.responseCaptures where slot >= 0 && slot < policy.responseCaptures.count && policy.accessLog != nil {
                if log.responseCaptures.count < policy.responseCaptures.count {
                    log.responseCaptures += [[UInt8]?](repeating: nil, count: policy.responseCaptures.count - log.responseCaptures.count)
                }
                log.responseCaptures[slot] = Array(value.prefix(policy.responseCaptures[slot].length))
            }
            if sample != nil { sample = s }
            if case .respond(let status, let answerHead, let answerBody, let denied, _) = outcome {
                answerInPlaceOfServer(status: status, head: answerHead, body: answerBody, denied: denied)
                return nil
            }
            if let status = s.status, status != head.status, head.status == 204 || head.status == 304, status != 204 && status != 304 {
                // A bodiless status made one that has a body: say it is empty, or the
                // client would read until the connection closes.
                editor.set("content-length", [UInt8(ascii: "0")])
            }
        }
        if storesResponse, let persistence = policy.persistence {
            // `stick store-response`: keys read from the response as the server sent it.
            // As in HAProxy they come before the `http-response` rules' edits.
            let s = sample ?? SampleContext()
            let (edited, status) = (s.response, s.status)
            s.response = HTTPHeadEditor(bytes: original, startLine: 0..<statusLineEnd, target: nil, headers: head.headers)
            s.status = head.status
            persistence.recordResponse(s, server: serverIndex)
            (s.response, s.status) = (edited, status)
        }
        var out = Self.allocator.buffer(capacity: original.count + 128)
        editor.serialize { out.writeBytes($0) }
        return .edited(out)
    }

    /// Whether the persistence cookie changes this response: a cookie to insert, or the
    /// server's own one to remove or rewrite.
    private func cookieResponseWork(_ buffer: ByteBuffer, _ head: HTTPResponseHead) -> Bool {
        guard let cookie = policy.backend.cookie, cookie.mode != .passive else { return false }
        if cookieToInsert(cookie) != nil { return true }
        if cookie.mode == .insert && cookie.preserve { return false }
        return buffer.withUnsafeReadableBytes { bytes in
            head.headers.contains { field in
                field.name.count == 10 && Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[field.name]), "set-cookie")
                    && cookie.setsOurCookie(Array(bytes[field.value])[...])
            }
        }
    }

    /// The final response has been forwarded in full.
    private func responseComplete() {
        responsePhase = .none
        if requestPhase == .waitingResponse {
            finishExchange()
        } else {
            // The server answered before the request body ended (an early 413, say):
            // the rest of the body is still forwarded, then the exchange ends. The
            // server may not read that rest as the body, so its connection is not reused.
            serverKeepAlive = false
        }
    }

    /// Both the request and its response are complete: recycle or close the server
    /// connection, then wait for the next request or close the client.
    private func finishExchange() {
        // The log line is written before the response is flushed: its connection counts
        // (`%ac`, `%fc`) must not see the client's next connection, which it may open
        // as soon as it has the answer.
        guard client != nil else { return }
        if let server {
            self.server = nil
            let clean = (responseInbound?.readableBytes ?? 0) == 0
            if !serverKeepAlive || !clean {
                server.close()
            } else if !server.park() {
                server.discard()
            }
        }
        responseInbound = nil
        responseStarted = false
        if let connected = log.connected {
            let now = loop.now
            policy.backend.recordTimes(serverIndex, queue: RequestLogContext.millisIfBoth(log.queueStarted, log.queueEnded),
                                       connect: RequestLogContext.millisIfBoth(log.connectStarted, connected),
                                       response: RequestLogContext.millisIfBoth(connected, log.responseHeadReceived),
                                       // From the accept or the end of the previous request, as
                                       // HAProxy's total time (its idle time included), with a
                                       // log or without.
                                       total: RequestLogContext.millis(log.accepted, now))
        }
        releaseSlot()
        writeLog()
        if policy.accessLog == nil {
            // Nothing else readies the timers for the next request without an access
            // log, and `show stat`'s queue, connect and total times read them: a later
            // request on the connection would be timed from the first one's moments.
            log.nextTimings(loop.now)
        }
        endTracking()
        requestsServed += 1
        parkDeclined = false
        parkAwaitsDrain = false
        failedServers = []
        retryPolicy = ConnectRetryPolicy(retries: policy.backend.retries, redispatch: policy.backend.redispatch)
        guard clientKeepAlive && !stopping else {
            closeClientAfterFlush()
            return
        }
        requestPhase = .head
        log.uniqueID = []
        headWaitStart = loop.now
        lastClientActivity = headWaitStart
        armTimer()
        flushClient()
        processRequestInput()
        if clientInputClosed && requestPhase == .head {
            // The client finished sending and every request it sent has its answer.
            closeClientAfterFlush()
            return
        }
        resumeClientRead()
    }

    func serverClosed(_ connection: HTTPServerConnection) {
        guard connection === server else { return }
        server = nil
        switch responsePhase {
        case .none:
            if requestPhase == .body || requestPhase == .connecting {
                // Answered early, then gone: the rest of the body has nowhere to go.
                clientKeepAlive = false
                abortAfterFlush()
            }
        case .head:
            if !responseStarted && (responseInbound?.readableBytes ?? 0) == 0 && connection.uses > 1 && requestRetryable && requestHead != nil {
                // An idle connection the server closed just as it was reused: the request
                // was not seen, so it is sent again on a fresh connection.
                requestPhase = .connecting
                connect(serverIndex)
                return
            }
            serverFailed(502)
        case .body:
            if responseBody.endsWithClose {
                clientKeepAlive = false
                responsePhase = .none
                // The exchange is over for the server: its slot goes to the queue now,
                // not once the client has drained the end of the response.
                releaseSlot()
                writeLog()
                closeClientAfterFlush()
            } else {
                // Truncated response: the client must see the connection end.
                log.terminate("S", "D")
                flushClient()
                closeAll()
            }
        }
    }

    private func serverFailed(_ status: Int) {
        server?.close()
        server = nil
        fail(status)
    }

    // MARK: - tunnel (101 Switching Protocols)

    private func switchToTunnel() {
        // The 101 goes out first: a client gone meanwhile ends the session here, its
        // slot and server connection with it.
        flushClient()
        guard let client, !client.isClosed, let server, let serverSocket = server.socket else { return }
        requestPhase = .tunnel
        responsePhase = .none
        cancelTimer()
        // The exchange's line is written now (status 101); the tunnel is not logged.
        writeLog()
        // The tunnel outlives this session: the request's stick entries, its slot (and
        // its tracking for shutdown-sessions) are held until the tunnel ends.
        let held = sample.map { $0.trackers.compactMap { $0 }.filter { !$0.connectionLevel } } ?? []
        sample = nil
        let heldSlot = slot
        slot = nil
        let backend = policy.backend
        let id = ObjectIdentifier(self)
        let ended = self.ended
        let (frontendCounters, serverCounters) = (policy.frontendCounters, backend.serverCounters[serverIndex])
        server.detach()
        self.server = nil
        let relay = TunnelRelay(client: client, server: serverSocket, idleTimeout: policy.tunnelTimeout,
                                clientFinTimeout: policy.clientFinTimeout, serverFinTimeout: policy.serverFinTimeout,
                                counted: { toServer, toClient in
                                    frontendCounters.bytesIn.add(toServer, ordering: .relaxed)
                                    frontendCounters.bytesOut.add(toClient, ordering: .relaxed)
                                    backend.counters.bytesIn.add(toServer, ordering: .relaxed)
                                    backend.counters.bytesOut.add(toClient, ordering: .relaxed)
                                    serverCounters.bytesIn.add(toServer, ordering: .relaxed)
                                    serverCounters.bytesOut.add(toClient, ordering: .relaxed)
                                }, onEnd: {
                                    let now = SampleContext.monotonicMilliseconds()
                                    for tracker in held { tracker.table.apply([.trackEnd], to: tracker.key, now: now) }
                                    if let heldSlot {
                                        backend.release(heldSlot)
                                        backend.untrack(heldSlot, id)
                                    }
                                    ended.finish()
                                })
        tunnel = relay
        // Bytes that followed either head belong to the new protocol.
        let (clientRest, serverRest) = (inbound, responseInbound)
        inbound = nil
        responseInbound = nil
        // The tunnel ends the connection, after this session has let it go.
        endReported = true
        self.client = nil
        relay.start(clientRest: clientRest, serverRest: serverRest, clientInputEnded: clientInputClosed)
    }

    // MARK: - errors and closing

    /// Answers with an error page (or just closes if a response has begun) and ends
    /// the connection, as HAProxy does after an error it produced itself.
    private func fail(_ status: Int) {
        releaseSlot()
        guard let client else { return }
        if !logPending, requestsServed == 0, let accessLog = policy.accessLog, !accessLog.dontLogNull {
            requestBegins(loop.now)
        }
        switch status {
        case 408: log.terminate("c", "R")
        case 502: log.terminate("S", "H")
        case 503: log.terminate("S", "C")
        case 504: log.terminate("s", "H")
        default: log.terminate("P", "R")
        }
        if log.status == nil { log.status = status }
        // A page written as a log-format is rendered while the transaction is known
        // (a request that could not be parsed has none: the plain page answers).
        let rendered = responseStarted || !policy.errorPages.rendersPerRequest ? nil : policy.errorPages.pageParts(status, for: sample, log)
        policy.frontendCounters.countResponse(status)
        if status == 400 { policy.frontendCounters.requestErrors.add(1, ordering: .relaxed) }
        writeLog()
        endTracking()
        dropServer()
        responsePhase = .none
        requestPhase = .closed
        cancelTimer()
        if responseStarted {
            flushClient()
            closeClient()
            return
        }
        responseStarted = true
        if policy.afterResponseRules.isEmpty && rendered == nil {
            client.enqueue(policy.errorPages.response(status))
        } else {
            let page = rendered ?? policy.errorPages.pageParts(status)
            var out = Self.allocator.buffer(capacity: page.head.count + page.body.count + 64)
            out.writeBytes(afterResponse(page.head, status: status).head)
            out.writeBytes(page.body)
            client.enqueue(out)
        }
        closeClientAfterFlush()
    }

    /// `http-after-response` rules on an answer of Fulcrum's own: its head as they left
    /// it, and its status (`set-status` may change it). Their `deny`/`return` are ignored
    /// here: the answer is already decided.
    private func afterResponse(_ head: [UInt8], status: Int) -> (head: [UInt8], status: Int) {
        guard !policy.afterResponseRules.isEmpty else { return (head, status) }
        let parsed = head.withUnsafeBytes { bytes in
            Result { () throws(HTTPParseError) in try HTTPHeadParser.parseResponse(bytes, requestWasHEAD: requestIsHEAD) }
        }
        guard case .success(let response) = parsed else { return (head, status) }
        let statusLineEnd = head.firstIndex(of: UInt8(ascii: "\n")).map { $0 > 0 && head[$0 - 1] == 13 ? $0 - 1 : $0 } ?? 0
        let s = sample ?? SampleContext()
        let (previous, previousStatus) = (s.response, s.status)
        s.response = HTTPHeadEditor(bytes: head, startLine: 0..<statusLineEnd, target: nil, headers: response.headers)
        s.status = status
        _ = HTTPRuleRunner.run(policy.afterResponseRules, response: true, s, &log, errorPages: policy.errorPages)
        let edited = s.response?.serialized() ?? head
        let newStatus = s.status ?? status
        (s.response, s.status) = (previous, previousStatus)
        if newStatus != status { log.status = newStatus }
        return (edited, newStatus)
    }

    /// Ends the client connection once what is queued for it is written. A client that
    /// never reads it is cut off after `timeout client` (30 s without one).
    private func closeClientAfterFlush() {
        guard client != nil else { return }
        // Closing a socket with unread input makes the kernel send a reset, which can
        // destroy the answer before the client reads it. Where the client is likely
        // still sending (a head refused for its size, a body nobody will read), the
        // close lingers; otherwise it is immediate, as HAProxy's.
        let unread = !clientInputClosed && ((inbound?.readableBytes ?? 0) >= policy.maxHeadSize || !requestBody.isFinished)
        requestPhase = .closed
        cancelTimer()
        closingDeadline = loop.now + (policy.clientTimeout ?? .seconds(30))
        armTimer()
        closeUnread = unread
        flushClient()
        guard let socket = self.client else { return }
        if socket.pendingBytes == 0 {
            closeOnceDrained()
        } else {
            afterClientDrained = true
        }
    }

    /// The answer is out: close, or linger while the client is still sending.
    private func closeOnceDrained() {
        guard let client else { return }
        // The client may have finished sending while the answer went out.
        if closeUnread && !clientInputClosed {
            linger(client)
        } else {
            closeClient()
        }
    }

    /// Sends FIN after the answer, then reads and drops what the client still sends
    /// until it closes, for at most `lingerTime` (or `timeout client` if shorter).
    private func linger(_ client: StreamSocket) {
        lingering = true
        client.watch()
        inbound = nil
        client.shutdownOutput()
        let limit = min(Self.lingerTime, policy.clientTimeout ?? Self.lingerTime)
        closingDeadline = min(closingDeadline ?? .distantFuture, loop.now + limit)
        cancelTimer()
        armTimer()
        pendingClientRead = false
        client.resumeReading()
    }

    /// How long a closing connection keeps draining a client that is still sending.
    static let lingerTime: TimeAmount = .seconds(2)

    /// The exchange cannot complete: the server connection goes at once, the client's
    /// after what was already queued for it.
    private func abortAfterFlush() {
        releaseSlot()
        dropServer()
        responsePhase = .none
        closeClientAfterFlush()
    }

    private func closeAll() {
        releaseSlot()
        requestPhase = .closed
        cancelTimer()
        dropServer()
        closeClient()
    }

    // MARK: - parking (`tune.park-idle-clients`)

    /// `shutdown session`, on the session's loop.
    func cut() {
        if client != nil {
            closeClient()
        } else {
            tunnel?.cut()
        }
    }

    /// SIGUSR1: a connection waiting for a request (its first or a next one, nothing
    /// of it received) closes now; one in the middle of an exchange after it.
    func softStop() {
        stopping = true
        if client != nil, requestPhase == .head, (inbound?.readableBytes ?? 0) == 0, !logPending {
            closeClientAfterFlush()
        }
    }

    var clientAddress: SocketAddress? { log.clientAddress }

    /// When a connection waiting for its next request is parked; nil while anything
    /// of an exchange is left (a server connection, a queue ticket, bytes to parse).
    private var parkDue: NIODeadline? {
        guard !parkDeclined, !parkAwaitsDrain, let after = policy.parkAfter, requestPhase == .head, requestsServed > 0,
              (inbound?.readableBytes ?? 0) == 0, !clientInputClosed, !lingering, !logPending,
              server == nil, pendingServer == nil, ticket == nil, slot == nil else { return nil }
        return headWaitStart + after
    }

    /// Hands the socket to a small record with what the next request needs; this
    /// session ends there.
    private func park(_ client: StreamSocket) {
        guard let registration else {
            declinePark()
            return
        }
        guard client.pendingBytes == 0 else {
            // The client still reads the last response: parked once it has it all.
            parkAwaitsDrain = true
            armTimer()
            return
        }
        let parked = ParkedHTTPClient(policy: basePolicy, ended: ended, connectionTrackers: connectionTrackers, listenerName: listenerName,
                                      registration: registration, clientAddress: log.clientAddress, frontendAddress: log.frontendAddress,
                                      accepted: log.accepted, acceptSeconds: log.acceptSeconds, acceptMilliseconds: log.acceptMilliseconds,
                                      waitStarted: headWaitStart, requestsServed: requestsServed, socket: client)
        registration.registry.replace(registration.id, with: parked, on: loop)
        handedOver = true
        requestPhase = .closed
        cancelTimer()
        parked.park()
        released()
    }

    private func declinePark() {
        parkDeclined = true
        armTimer()
    }

    /// A parked connection's client sent again: a new session takes the socket and
    /// the bytes.
    static func resume(_ parked: ParkedHTTPClient, socket: StreamSocket, with bytes: ByteBuffer) {
        let session = HTTPClientSession(resuming: parked, loop: socket.loop)
        parked.registration.registry.replace(parked.registration.id, with: session, on: socket.loop)
        session.start(socket)
        session.socketRead(socket, bytes)
    }

    // MARK: - timeouts

    /// The moment the current phase times out. A side is only blamed for being idle
    /// while Fulcrum was ready to move its bytes: `timeout client` runs while the client
    /// should send (request body, with the server draining) or while it does not drain
    /// what Fulcrum writes; `timeout server` while the server should answer (with the
    /// client draining) or while it does not drain the request body.
    private func nextDeadline() -> NIODeadline? {
        let clientWritable = self.clientWritable
        switch requestPhase {
        case .head:
            if !clientWritable, let t = policy.clientTimeout {
                // The previous response has not been drained yet.
                return clientStalledSince + t
            }
            let waitingForNext = requestsServed > 0 && (inbound?.readableBytes ?? 0) == 0
            let timeout = waitingForNext ? policy.keepAliveTimeout : policy.httpRequestTimeout
            let expiry = timeout.map { headWaitStart + $0 }
            if waitingForNext, let park = parkDue {
                return min(expiry ?? park, park)
            }
            return expiry
        case .body, .waitingResponse, .connecting:
            let serverWritable = server?.isWritable ?? true
            var deadline: NIODeadline? = nil
            func consider(_ d: NIODeadline) { deadline = deadline.map { min($0, d) } ?? d }
            if ticket != nil { consider(queuedSince + policy.backend.queueTimeout) }
            if pendingServer != nil { consider(attemptStarted + policy.backend.connectTimeout) }
            if let t = policy.clientTimeout {
                if requestPhase == .body && serverWritable { consider(lastClientActivity + t) }
                if !clientWritable { consider(clientStalledSince + t) }
            }
            if let t = policy.serverTimeout {
                if responsePhase != .none && clientWritable { consider(lastServerActivity + t) }
                if requestPhase == .body && !serverWritable && server != nil { consider(serverStalledSince + t) }
            }
            return deadline
        case .closed:
            return closingDeadline
        case .tunnel:
            return nil
        }
    }

    private func armTimer() {
        guard client != nil, let deadline = nextDeadline() else { return }
        // An armed deadline at or before the next one stays: it re-arms when it fires.
        if isArmed && self.deadline <= deadline { return }
        loop.arm(self, at: deadline)
    }

    /// The armed deadline came.
    override func fire() {
        timerFired()
    }

    private func cancelTimer() {
        if isArmed { loop.disarm(self) }
    }

    private func timerFired() {
        guard let client, let deadline = nextDeadline() else { return }
        let now = loop.now
        guard deadline <= now else {
            armTimer()
            return
        }
        if let parkAt = parkDue, parkAt <= now, policy.keepAliveTimeout.map({ headWaitStart + $0 > now }) ?? true,
           requestsServed > 0 && (inbound?.readableBytes ?? 0) == 0 {
            park(client)
            return
        }
        if let pending = pendingServer, attemptStarted + policy.backend.connectTimeout <= now {
            pendingServer = nil
            if pending.isConnected {
                // Connected, but the head is larger than the socket takes at once and
                // the server reads it slowly: from here `timeout server` applies.
                attach(pending, index: pending.server, headSent: true)
                return
            }
            pending.close()
            connectFailed(pending.server, ChannelError.connectTimeout(policy.backend.connectTimeout))
            return
        }
        if ticket != nil && queuedSince + policy.backend.queueTimeout <= now {
            // No server slot freed in time: 503, as HAProxy after `timeout queue`.
            log.terminate("s", "Q")
            fail(503)
            return
        }
        switch requestPhase {
        case .head:
            if !client.isWritable {
                closeAll()
            } else if requestsServed > 0 && (inbound?.readableBytes ?? 0) == 0 {
                closeClientAfterFlush()
            } else {
                fail(408)
            }
        case .closed:
            closeClient()
        case .body where (server?.isWritable ?? true) && (policy.clientTimeout.map { lastClientActivity + $0 <= now } ?? false):
            // The client stopped sending its body.
            fail(408)
        default:
            if responsePhase == .head && client.isWritable {
                policy.backend.observe(serverIndex, ok: policy.backend.observedLayer[serverIndex] == 4, "L7 timeout")
                fail(504)
            } else {
                // A response has begun (or the client does not drain it): only cutting
                // the connection can tell.
                log.terminate(client.isWritable ? "s" : "c", "D")
                closeAll()
            }
        }
    }
}
