import Foundation

/// xoshiro256** (Blackman & Vigna, 2018) seeded through SplitMix64: small, fast, and the same stream for the
/// same seed on every run, which `SystemRandomNumberGenerator` is not.
struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator whose state is four outputs of SplitMix64 started at `seed`, as the authors recommend:
    /// never all zero, and nearby seeds give unrelated streams.
    init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        (s0, s1, s2, s3) = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    mutating func next() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
        let shifted = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= shifted
        s3 = s3.rotatedLeft(by: 45)
        return result
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by bits: UInt64) -> UInt64 {
        (self << bits) | (self >> (64 - bits))
    }
}

// MARK: - Variates

extension Xoshiro256 {
    /// Uniform on (0, 1), never 0 or 1, so its logarithm is finite: the top 53 bits, centred in their cell.
    mutating func nextOpenUnit() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Standard normal, by Box–Muller (one of the pair; keeping the other would add state for little gain).
    mutating func nextNormal() -> Double {
        (-2 * log(nextOpenUnit())).squareRoot() * cos(2 * Double.pi * nextOpenUnit())
    }

    /// Exponential with rate 1.
    mutating func nextExponential() -> Double {
        -log(nextOpenUnit())
    }

    /// ln of a Gamma(shape, rate 1) variate, shape > 0: Marsaglia & Tsang (2000).
    ///
    /// Their method needs shape ≥ 1; below it, Gamma(k) = Gamma(k + 1) · U^(1/k). Returned in logs because
    /// for small shapes (r = 0.25 puts 1 % of the mass below 10⁻⁸) the variate itself can underflow.
    mutating func nextLogGamma(shape: Double) -> Double {
        if shape < 1 {
            return nextLogGamma(shape: shape + 1) + log(nextOpenUnit()) / shape
        }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = nextNormal()
            let root = 1 + c * x
            guard root > 0 else { continue }
            let v = root * root * root
            let u = nextOpenUnit()
            // The cheap squeeze accepts about 98 % of candidates; the exact test settles the rest.
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) {
                return log(d) + log(v)
            }
        }
    }

    /// Gamma(shape, rate 1) variate, shape > 0.
    mutating func nextGamma(shape: Double) -> Double {
        exp(nextLogGamma(shape: shape))
    }

    /// Beta(a, b) variate as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), formed in logs so it stays defined
    /// when both gamma variates underflow.
    mutating func nextBeta(_ a: Double, _ b: Double) -> Double {
        let (logX, logY) = (nextLogGamma(shape: a), nextLogGamma(shape: b))
        return 1 / (1 + exp(logY - logX))
    }
}
