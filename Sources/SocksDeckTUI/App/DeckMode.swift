/// What the keys go to: the panes, or the one form, question, filter line or box open over them.
/// One value, so that two of them can never be open at once and a key has one place to go.
enum DeckMode: Equatable, Sendable {
    case browsing
    /// The send form (s).
    case sending(SendRequest)
    /// The add/edit server form (a, e).
    case editingServer(ServerForm)
    /// The check form (c).
    case checking(CheckForm)
    /// The forward form (F), bound to the server it was opened on.
    case forwarding(ForwardForm)
    /// The associations filter line (/).
    case filtering
    /// A question on the status line waiting for y or n.
    case confirming(Confirmation)
    /// The help or a probe's findings over the panes.
    case showing(OverlayKind)

    /// The box shown, in `showing`.
    var overlayKind: OverlayKind? { if case .showing(let kind) = self { kind } else { nil } }
}

/// Each mode read and written as the optional it used to be: nil leaves the mode alone unless it
/// was that one, which then goes back to browsing.
extension DeckModel {
    var form: SendRequest? {
        get { if case .sending(let form) = mode { form } else { nil } }
        set { replaceMode(newValue.map(DeckMode.sending)) { if case .sending = $0 { true } else { false } } }
    }

    var serverForm: ServerForm? {
        get { if case .editingServer(let form) = mode { form } else { nil } }
        set {
            replaceMode(newValue.map(DeckMode.editingServer)) { if case .editingServer = $0 { true } else { false } }
        }
    }

    var checkForm: CheckForm? {
        get { if case .checking(let form) = mode { form } else { nil } }
        set { replaceMode(newValue.map(DeckMode.checking)) { if case .checking = $0 { true } else { false } } }
    }

    var forwardForm: ForwardForm? {
        get { if case .forwarding(let form) = mode { form } else { nil } }
        set { replaceMode(newValue.map(DeckMode.forwarding)) { if case .forwarding = $0 { true } else { false } } }
    }

    var confirmation: Confirmation? {
        get { if case .confirming(let question) = mode { question } else { nil } }
        set { replaceMode(newValue.map(DeckMode.confirming)) { if case .confirming = $0 { true } else { false } } }
    }

    var overlay: OverlayKind? {
        get { mode.overlayKind }
        set { replaceMode(newValue.map(DeckMode.showing)) { if case .showing = $0 { true } else { false } } }
    }

    var editingFilter: Bool {
        get { mode == .filtering }
        set { replaceMode(newValue ? .filtering : nil) { $0 == .filtering } }
    }

    var helpVisible: Bool {
        get { overlay == .help }
        set { overlay = newValue ? .help : (overlay == .help ? nil : overlay) }
    }

    private mutating func replaceMode(_ new: DeckMode?, ifNilAndCurrent isCurrent: (DeckMode) -> Bool) {
        if let new {
            mode = new
        } else if isCurrent(mode) {
            mode = .browsing
        }
    }
}
