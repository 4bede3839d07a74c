import dev.dualdeploy.jenkins.DualDeployCli

// What runs per stage and side, and PARITY or DRIFT; see dualDeployStatus.txt.
def call(Map options = [:]) {
    def cli = new DualDeployCli(this, options)
    Map status = cli.run('status', [STAGE: options.stage ?: '', CHECK: options.check ? 'true' : ''], 'status')
    if (status.error) {
        cli.check(status, 'status')
    }
    echo DualDeployCli.summary(status)
    if (options.check) {
        cli.check(status, 'status --check')
    }
    return status
}
