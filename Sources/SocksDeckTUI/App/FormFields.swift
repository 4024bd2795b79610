/// The fields of a modal form (the send form, the server form): their text, which one has the
/// focus and its line editor, the y/n toggles, the secrets drawn as dots, and what is wrong with
/// a field after a refused Enter. Each form is a small type over this one.
struct FormFields: Equatable, Sendable {
    let names: [String]
    private(set) var values: [String]
    /// Fields that are y/n switches rather than text.
    let toggles: Set<Int>
    /// Fields whose text is never shown (a password): drawn as one dot per character.
    let secrets: Set<Int>
    /// Fields that take one of a few values: Space and ←/→ go through them.
    let choices: [Int: [String]]
    private(set) var field = 0
    private(set) var editor: LineEditor
    private(set) var problem: (field: Int, message: String)?

    init(
        names: [String],
        values: [String],
        toggles: Set<Int> = [],
        secrets: Set<Int> = [],
        choices: [Int: [String]] = [:]
    ) {
        self.names = names
        self.values = values
        self.toggles = toggles
        self.secrets = secrets
        self.choices = choices
        editor = LineEditor(values.first ?? "")
    }

    static func == (a: FormFields, b: FormFields) -> Bool {
        a.names == b.names && a.values == b.values && a.field == b.field && a.editor == b.editor
            && a.problem?.field == b.problem?.field && a.problem?.message == b.problem?.message
    }

    func isOn(_ index: Int) -> Bool { values[index] == "y" }

    /// Sets a field's text from code (a prefill), keeping the editor in step.
    mutating func set(_ index: Int, _ text: String) {
        values[index] = text
        if index == field { editor = LineEditor(text) }
    }

    /// Moves to `newField` (wrapping), its cursor at the end of its text.
    mutating func focus(_ newField: Int) {
        field = (newField % names.count + names.count) % names.count
        editor = LineEditor(values[field])
    }

    /// Marks a field wrong, with the words, and moves the focus there; what was typed stays.
    mutating func refuse(_ index: Int, _ message: String) {
        focus(index)
        problem = (index, message)
    }

    mutating func clearProblem() { problem = nil }

    enum Outcome: Equatable, Sendable { case stay, cancel, submit }

    mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .escape: return .cancel
        case .enter: return .submit
        case .tab, .down: focus(field + 1)
        case .backTab, .up: focus(field - 1)
        default:
            if let options = choices[field] {
                let i = options.firstIndex(of: values[field]) ?? 0
                switch key {
                case .character(" "), .right: values[field] = options[(i + 1) % options.count]
                case .left: values[field] = options[(i + options.count - 1) % options.count]
                default: break
                }
            } else if toggles.contains(field) {
                switch key {
                case .character("y"), .character("Y"): values[field] = "y"
                case .character("n"), .character("N"): values[field] = "n"
                case .character(" "): values[field] = isOn(field) ? "n" : "y"
                default: break
                }
            } else if editor.apply(key) == .edited {
                values[field] = editor.text
                if problem?.field == field { problem = nil }
            }
        }
        return .stay
    }

    /// The text to draw for a field: dots for a secret, the cursor bar in the active one.
    func shown(_ index: Int) -> String {
        if secrets.contains(index) {
            let dots = String(repeating: "•", count: values[index].count)
            return index == field ? dots + "▏" : dots
        }
        if let options = choices[index] {
            let all = options.joined(separator: "/")
            return index == field ? "◂ \(values[index]) ▸" : values[index] + " (of \(all))"
        }
        return index == field && !toggles.contains(index) ? editor.withCursor : values[index]
    }
}
