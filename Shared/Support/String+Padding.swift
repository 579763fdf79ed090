extension String {
    /// The string with `pad` repeated in front of it up to `width` characters; unchanged when already as wide.
    public func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
