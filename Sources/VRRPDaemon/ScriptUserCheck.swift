import KeepalivedConfig

/// What `fulcrum-vrrp -t` reports about track scripts that could not run as the user
/// they name (`user USER [GROUP]` or `script_user`): at start the daemon would disable
/// them, as keepalived does ("Unable to set uid/gid for script"), so the config test
/// says so at the `user` line, as keepalived's does.
public enum ScriptUserCheck {
    public static func findings(_ configuration: KeepalivedConfiguration) -> [KeepalivedDiagnostic] {
        var out: [KeepalivedDiagnostic] = []
        for definition in configuration.scripts.values.sorted(by: { $0.location.line < $1.location.line }) {
            guard definition.user != nil || configuration.global.scriptUser != nil else { continue }
            if case .failure(let refusal) = ScriptCredentials.resolve(definition.user, global: configuration.global) {
                out.append(KeepalivedDiagnostic(.error, "vrrp_script \(definition.name): \(refusal); the script would be disabled at start",
                                                at: definition.userLocation ?? configuration.global.scriptUserLocation ?? definition.location))
            }
        }
        return out
    }
}
