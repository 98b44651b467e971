extension ChunkedBodyFraming {
    /// What rules see of a chunked request body (`req.body` with `option
    /// http-buffer-request`): the chunks' data as far as `bytes` (the body from its
    /// start) goes, a chunk cut short included, as HAProxy hands rules the decoded data
    /// it holds. The framing is followed with the same checks as when forwarding; the
    /// bytes themselves are not changed. `finished`: the last chunk and the trailers
    /// are there; `malformed`: the framing broke, and the data stops there.
    public static func dechunk(_ bytes: UnsafeRawBufferPointer) -> (data: [UInt8], finished: Bool, malformed: Bool) {
        var framing = ChunkedBodyFraming()
        var data: [UInt8] = []
        var i = 0
        while i < bytes.count && !framing.isFinished {
            // Chunk data in one step, everything else (size lines, CRLFs, trailers) a byte at a time.
            var end = i + 1
            if case .data(let remaining) = framing.state { end = i + Int(min(UInt64(bytes.count - i), remaining)) }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[i..<end])
            let wasData: Bool
            if case .data = framing.state { wasData = true } else { wasData = false }
            do {
                _ = try framing.consume(slice)
            } catch {
                return (data, false, true)
            }
            if wasData { data.append(contentsOf: slice) }
            i = end
        }
        return (data, framing.isFinished, false)
    }
}
