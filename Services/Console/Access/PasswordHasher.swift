import HummingbirdBcrypt
import NIOPosix

/// Bcrypt hashes of console passwords, computed off Swift's cooperative pool (a hash takes a quarter of a second
/// by design, and the pool has one thread per core).
public enum PasswordHasher {
    /// The work factor: 2^12 rounds, about 0.2–0.3 s on one core of a small server.
    public static let cost: UInt8 = 12

    /// Bcrypt reads at most 72 bytes of a password; longer ones are refused rather than silently cut.
    public static let maximumBytes = 72

    /// The shortest password accepted.
    public static let minimumLength = 12

    /// A hash of a dummy password, verified against when the user name is unknown, so that an unknown name takes as
    /// long to refuse as a wrong password (no timing tells which names exist).
    static let decoy = Bcrypt.hash("not a password of anyone's", cost: cost)

    /// Why a password cannot be used, or nil.
    public static func problem(with password: String) -> String? {
        if password.count < minimumLength { return "shorter than \(minimumLength) characters" }
        if password.utf8.count > maximumBytes { return "longer than \(maximumBytes) bytes (bcrypt's limit)" }
        return nil
    }

    /// The bcrypt hash (`$2b$12$…`) of `password`.
    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) it still spends the time, and answers false.
    static func verify(_ password: String, hash: String?) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive {
            guard let hash else {
                _ = Bcrypt.verify(password, hash: decoy)
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
    }
}
