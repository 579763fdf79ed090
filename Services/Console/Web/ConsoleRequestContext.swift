import Hummingbird
import Logging
import NIOCore

/// What the console knows about a request besides the request itself: the peer's address and, once the session
/// middleware has found one, the signed-in session.
struct ConsoleRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TCP peer's address (the proxy's, behind one).
    let peerAddress: String
    /// The session, set by ``SessionMiddleware`` for every page behind sign-in.
    var session: ConsoleSession?
    /// The session cookie's token, kept to end the session on sign-out.
    var sessionToken: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Form posts are small: a sign-in or sign-out.
    var maxUploadSize: Int { 16 * 1024 }
}
