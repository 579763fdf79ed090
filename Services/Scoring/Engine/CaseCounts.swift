/// Counts by case: an array indexed by the case's place in `allCases` rather than a dictionary keyed by the case,
/// which hashes the key on every count. A full rescoring counts every customer's stage, tier, cell and strategy: a
/// million times a run for each.
struct CaseCounts<Case: CaseIterable & Hashable> {
    private let cases = Array(Case.allCases)
    private(set) var counts: [Int]

    init() { counts = [Int](repeating: 0, count: cases.count) }

    /// The place of `value` in `allCases`.
    func index(of value: Case) -> Int { cases.firstIndex(of: value) ?? 0 }

    mutating func add(_ value: Case) { counts[index(of: value)] += 1 }

    /// The cases counted at least once, with their counts.
    var counted: [Case: Int] {
        Dictionary(uniqueKeysWithValues: zip(cases, counts).filter { $0.1 > 0 })
    }
}
