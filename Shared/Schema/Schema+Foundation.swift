extension Schema {
    /// Tables every service shares: the transactional outbox and the replicas seen.
    static let foundation = Migration(
        version: 1,
        name: "foundation",
        sql: """
            CREATE TABLE crm_outbox (
                id bigserial PRIMARY KEY,
                source text NOT NULL,
                exchange text NOT NULL,
                routing_key text NOT NULL,
                message_id text NOT NULL,
                body text NOT NULL,
                headers jsonb NOT NULL DEFAULT '{}',
                created_at timestamptz NOT NULL DEFAULT now(),
                attempts integer NOT NULL DEFAULT 0,
                last_error text
            );
            CREATE INDEX crm_outbox_source ON crm_outbox (source, id);

            CREATE TABLE crm_instances (
                instance_id text PRIMARY KEY,
                service text NOT NULL,
                host text NOT NULL,
                version text NOT NULL,
                started_at timestamptz NOT NULL,
                last_seen_at timestamptz NOT NULL
            );
            CREATE INDEX crm_instances_seen ON crm_instances (service, last_seen_at);
            """
    )
}

extension Schema {
    /// Leases on outbox rows: a row written for this process's relay to publish straight from memory is left to it
    /// until `claimed_until`; polls take only unleased or expired rows.
    static let outboxLeases = Migration(
        version: 8,
        name: "outbox leases",
        sql: """
            ALTER TABLE crm_outbox ADD COLUMN claimed_until timestamptz;
            """
    )
}

extension Schema {
    /// Outbox bodies compressed with LZ4 instead of PostgreSQL's own pglz: a batch's scoring event (tens of kilobytes)
    /// is compressed as it is written and deleted moments later, and pglz was a twentieth of the database's work
    /// under intake's load. LZ4 still shrinks a backlog that waits for the broker. A server built without LZ4 keeps
    /// bodies uncompressed instead.
    static let outboxBodyCompression = Migration(
        version: 11,
        name: "outbox body compression",
        sql: """
            DO $$
            BEGIN
                ALTER TABLE crm_outbox ALTER COLUMN body SET COMPRESSION lz4;
            EXCEPTION WHEN feature_not_supported THEN
                ALTER TABLE crm_outbox ALTER COLUMN body SET STORAGE EXTERNAL;
            END
            $$;
            """
    )
}
