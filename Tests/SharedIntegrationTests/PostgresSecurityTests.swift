import Foundation
import TestSupport
import Testing

@testable import CRMPostgres

/// Passwords never leave in an error, role passwords leave only as verifiers, and `sslmode=` in the URL is obeyed.
@Suite("PostgreSQL security")
struct PostgresSecurityTests {
    /// The message of the error a connection attempt fails with.
    static func failure(connecting url: String) async -> String? {
        let connection = PostgresConnection(url: url, applicationName: "test", logger: TestServers.logger)
        do {
            try await connection.ping()
            await connection.close()
            return nil
        } catch {
            await connection.close()
            return error.description
        }
    }

    @Test func aMalformedURLNeverEchoesItsPassword() async throws {
        // libpq itself quotes the bad token: `invalid percent-encoded token: "Secret%zzPass"`.
        let uri = await Self.failure(connecting: "postgres://crm_intake:Secret%zzPass@127.0.0.1:5432/crm")
        let message = try #require(uri)
        #expect(!message.contains("Secret"), "\(message)")
        #expect(message.contains("***"), "\(message)")
        let pairs = await Self.failure(connecting: "host=127.0.0.1 password=Hunter2-Hunter2 dbname")
        #expect(pairs.map { !$0.contains("Hunter2") } == true, "\(pairs ?? "")")
        #expect(
            PGHandle.redacting("bad \"a%41b\" and aAb", secretsOf: "postgres://u:a%41b@h/db") == "bad \"***\" and ***"
        )
    }

    @Test func aRolePasswordLeavesOnlyAsAVerifier() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let connection = environment.connection(name: "verifier")
            let verifier = try await connection.encryptedPassword("correct horse battery", user: "crm_someone")
            #expect(verifier.hasPrefix("SCRAM-SHA-256$4096:"))
            #expect(!verifier.contains("correct horse"))
            #expect(try await connection.encryptedPassword("correct horse battery", user: "crm_someone") != verifier)
            await connection.close()
        }
    }

    @Test func sslmodeInTheURLIsObeyed() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let serverSSL = try await environment.pool.query("SHOW ssl")[0][0] == "on"
            let separator = environment.database.url.contains("?") ? "&" : "?"
            let plain = PostgresConnection(
                url: environment.database.url + separator + "sslmode=disable",
                applicationName: "plain",
                logger: TestServers.logger
            )
            let encrypted = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            #expect(try await plain.query(encrypted)[0][0] == "f")
            await plain.close()
            let required = environment.database.url + separator + "sslmode=require"
            if serverSSL {
                let tls = PostgresConnection(url: required, applicationName: "tls", logger: TestServers.logger)
                #expect(try await tls.query(encrypted)[0][0] == "t")
                await tls.close()
            } else {
                // The local server runs without TLS: requiring it must fail rather than fall back to plain text.
                let message = await Self.failure(connecting: required)
                #expect(message?.contains("SSL") == true, "\(message ?? "connected in plain text")")
            }
        }
    }
}
