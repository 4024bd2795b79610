/// Where each pane goes for a screen size: htop-like, shedding detail when small.
struct Layout: Equatable {
    var panes: [PaneID: Rect]
    var headerRow: Int
    var statusRow: Int
    var body: Rect

    static func compute(height: Int, width: Int, model: DeckModel) -> Layout {
        let body = Rect(y: 1, x: 0, height: height - 2, width: width)
        var panes: [PaneID: Rect] = [:]
        if model.zoomed {
            panes[model.focused] = body
            return Layout(panes: panes, headerRow: 0, statusRow: height - 1, body: body)
        }
        guard body.height >= 6 else {
            // Too small for more than one pane: the focused one.
            panes[model.focused] = body
            return Layout(panes: panes, headerRow: 0, statusRow: height - 1, body: body)
        }
        let logHeight = body.height >= 22 ? 8 : body.height >= 16 ? 5 : 0
        // The middle keeps room for its header and one row (an association at 40x10).
        let serversHeight = max(
            min(max(model.serversPaneRowCount, 1) + 3, max(5, body.height * 3 / 10), body.height - logHeight - 4),
            3
        )
        let middle = Rect(
            y: body.y + serversHeight,
            x: 0,
            height: body.height - serversHeight - logHeight,
            width: width
        )
        panes[.servers] = Rect(y: body.y, x: 0, height: serversHeight, width: width)
        if width >= 110 {
            let left = width * 60 / 100
            panes[.associations] = Rect(y: middle.y, x: 0, height: middle.height, width: left)
            panes[.detail] = Rect(y: middle.y, x: left, height: middle.height, width: width - left)
        } else if model.focused == .detail {
            panes[.detail] = middle
        } else {
            panes[.associations] = middle
        }
        if logHeight > 0 {
            panes[.log] = Rect(y: middle.y + middle.height, x: 0, height: logHeight, width: width)
        } else if model.focused == .log {
            panes[.log] = middle
            panes[.associations] = nil
            panes[.detail] = nil
        }
        return Layout(panes: panes, headerRow: 0, statusRow: height - 1, body: body)
    }
}

/// Draws a whole frame from the model: header, panes, overlays, status line. Pure: the same
/// model on a BufferCanvas gives the text the tests read.
enum Screen {
    static func render(_ model: DeckModel, on canvas: Canvas) {
        canvas.clear()
        guard canvas.height >= 3, canvas.width >= 20 else {
            canvas.put("SocksDeck: enlarge the terminal", y: 0, x: 0, role: .warning)
            return
        }
        let layout = Layout.compute(height: canvas.height, width: canvas.width, model: model)
        let open = model.associations.filter { $0.state == .associated }.count
        var header =
            " SocksDeck · \(model.servers.count) servers · "
            + (model.runningForwardCount == 0 ? "" : "\(model.runningForwardCount) forwarding · ")
            + "\(open) associated of \(model.associations.count) · theme \(model.themeName)"
        if let banner = model.banner { header += " · \(banner)" }
        canvas.put(header, y: layout.headerRow, x: 0, width: canvas.width, role: .title, pad: true)
        for (pane, rect) in layout.panes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let focused = pane == model.focused
            switch pane {
            case .servers: ServersPane.draw(model, in: rect, on: canvas, focused: focused)
            case .associations: AssociationsPane.draw(model, in: rect, on: canvas, focused: focused)
            case .detail: DetailPane.draw(model, in: rect, on: canvas, focused: focused)
            case .log: LogPane.draw(model, in: rect, on: canvas, focused: focused)
            }
        }
        let association = model.selectedAssociationSnapshot.map { "#\($0.id.value) \($0.serverName)" } ?? "?"
        switch model.mode {
        case .checking(let form):
            FormOverlay.draw(
                title: "Check through \(association)",
                form.fields,
                footer: "Space/←/→ the check · Tab next field · Enter run · Esc cancel",
                on: canvas,
                in: layout.body,
                width: 72
            )
        case .editingServer(let form):
            let title = if case .edit(let name) = form.mode { "Edit server \(name)" } else { "Add a server" }
            FormOverlay.draw(
                title: title,
                form.fields,
                footer: "Tab next field · Enter done · Esc cancel",
                on: canvas,
                in: layout.body,
                width: 72
            )
        case .forwarding(let form):
            FormOverlay.draw(
                title: "Forward through \(form.server.name)",
                form.fields,
                footer: "Tab next field · Enter start · Esc cancel",
                on: canvas,
                in: layout.body,
                width: 72
            )
        case .sending(let form):
            SendFormOverlay.draw(form, association: association, on: canvas, in: layout.body)
        case .showing(.help):
            HelpOverlay.draw(scroll: model.overlayScroll, on: canvas, in: layout.body)
        case .showing(.findings(let server)):
            FindingsOverlay.draw(
                server: server,
                findings: model.probeReports[server] ?? [],
                scroll: model.overlayScroll,
                on: canvas,
                in: layout.body
            )
        case .browsing, .filtering, .confirming:
            break
        }
        StatusLine.draw(model, y: layout.statusRow, width: canvas.width, on: canvas)
    }
}
