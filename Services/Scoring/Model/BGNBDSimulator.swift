/// Draws synthetic customers from known BG/NBD (and optionally Gamma-Gamma) parameters, deterministically
/// from a seed and one customer at a time, so a million stream through in constant memory.
///
/// Each customer gets λ ~ Gamma(r, rate α) and p ~ Beta(a, b), makes a first purchase at time 0, then buys at
/// the times of a Poisson process of rate λ and drops out for good after each repeat purchase with
/// probability p (lifetimes' `beta_geometric_nbd_model`). With a spend model, the customer's transaction values
/// are Gamma(p, rate ν) with ν ~ Gamma(q, rate v). The same seed gives the same customers on one platform.
public struct BGNBDSimulator: Sendable {
    /// One simulated purchase.
    public struct Purchase: Sendable, Hashable {
        /// Time since the customer's first purchase, in model time units.
        public var time: Double
        /// Value in currency units; 0 without a spend model.
        public var amount: Double

        /// A purchase at `time` of value `amount`.
        public init(time: Double, amount: Double) {
            self.time = time
            self.amount = amount
        }
    }

    /// The purchase model customers are drawn from; its time unit is the simulator's.
    public let transactions: BGNBD
    /// The spend model transaction values are drawn from; nil for zero-valued purchases.
    public let spend: GammaGamma?
    private var random: Xoshiro256

    /// A simulator for `transactions` (and `spend`, default none) whose stream is fixed by `seed`.
    public init(transactions: BGNBD, spend: GammaGamma? = nil, seed: UInt64) {
        self.transactions = transactions
        self.spend = spend
        self.random = Xoshiro256(seed: seed)
    }

    /// Simulates the next customer over `age` time units after their first purchase: writes every purchase, the
    /// first at time 0, into `purchases` (emptied first, its storage reused) and returns the summary.
    public mutating func nextCustomer(age: Double, purchases: inout [Purchase]) -> TransactionSummary {
        purchases.removeAll(keepingCapacity: true)
        return simulate(age: age) { purchases.append($0) }
    }

    /// Simulates the next customer over `age` time units after their first purchase, keeping only the summary.
    public mutating func nextSummary(age: Double) -> TransactionSummary {
        simulate(age: age) { _ in }
    }

    private mutating func simulate(age: Double, _ record: (Purchase) -> Void) -> TransactionSummary {
        // A rate that underflows to 0 is a customer who never buys again: the first wait is then infinite.
        let rate = random.nextGamma(shape: transactions.r) / transactions.alpha
        let dropout = random.nextBeta(transactions.a, transactions.b)
        let spendRate = spend.map { random.nextGamma(shape: $0.q) / $0.v }

        record(Purchase(time: 0, amount: nextAmount(spendRate)))
        var time = 0.0
        var repeats = 0
        var repeatTotal = 0.0
        var lastTime = 0.0
        while true {
            time += random.nextExponential() / rate
            guard time <= age else { break }
            let amount = nextAmount(spendRate)
            record(Purchase(time: time, amount: amount))
            repeats += 1
            repeatTotal += amount
            lastTime = time
            if random.nextOpenUnit() < dropout { break }
        }
        return TransactionSummary(
            frequency: repeats,
            recency: lastTime,
            age: age,
            monetaryValue: repeats > 0 ? repeatTotal / Double(repeats) : 0
        )
    }

    /// One transaction value: Gamma(p, rate ν) for the customer's ν, or 0 without a spend model.
    private mutating func nextAmount(_ spendRate: Double?) -> Double {
        guard let spend, let spendRate else { return 0 }
        return random.nextGamma(shape: spend.p) / spendRate
    }
}
