package dev.dualdeploy.jenkins

import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

import static org.assertj.core.api.Assertions.assertThat
import static org.assertj.core.api.Assertions.catchThrowable

class SiblingStepsTest extends PipelineFixture {

    static final Map STATUS = [command: 'status', exitCode: 0, stages: [
            [stage: 'sandbox', parity: [status: 'PARITY', reason: 'all sides run aaaaaaaaaaaa'], sides: []],
            [stage: 'prod', parity: [status: 'DRIFT', reason: 'sides differ: legacy aaaaaaaaaaaa, kubernetes bbbbbbbbbbbb'], sides: []]]]

    @BeforeEach
    void setUp() {
        setUpPipeline()
    }

    @Test
    void statusPrintsAndReturnsTheStatusMap() {
        answers.status = { Map e -> STATUS }

        Map status = runPipeline("return dualDeployStatus(configFile: 'deploy/dualdeploy.yaml')") as Map

        assertThat(commands()).containsExactly('status')
        assertThat(cliCalls[0].env).containsEntry('DD_CONFIG', 'deploy/dualdeploy.yaml').doesNotContainKey('DD_CHECK')
        assertThat(cliCalls[0].argv).containsExactly('status', '--file', 'deploy/dualdeploy.yaml', '--output', 'json')
        assertThat(status.stages*.parity*.status).containsExactly('PARITY', 'DRIFT')
        assertThat(callsTo('echo')[0].args[0].toString()).isEqualTo("sandbox: PARITY (all sides run aaaaaaaaaaaa)\n"
                + "prod: DRIFT (sides differ: legacy aaaaaaaaaaaa, kubernetes bbbbbbbbbbbb)")
    }

    @Test
    void statusCheckFailsTheBuildOnDrift() {
        answers.status = { Map e -> STATUS + [exitCode: 3] }

        Throwable failure = catchThrowable { runPipeline("dualDeployStatus(check: true, stage: 'prod')") }

        assertThat(cliCalls[0].argv).containsExactly('status', '--stage', 'prod', '--check', '--output', 'json')
        assertThat(failure).hasMessageContaining('dualdeploy status --check failed (exit 3)')
    }

    @Test
    void rollbackRollsBackOneSideAndFailsWithTheReason() {
        answers.rollback = { Map e -> [command: 'rollback', exitCode: 0, outcome: 'SUCCEEDED', reason: 'rolled back kubernetes'] }
        Map result = runPipeline("return dualDeployRollback(stage: 'prod', side: 'kubernetes', credentials: [kubeconfig: 'kube'])") as Map
        assertThat(cliCalls[0].argv).containsExactly('rollback', '--stage', 'prod', '--side', 'kubernetes', '--output', 'json')
        assertThat(cliCalls[0].credentials).containsExactly([file: [credentialsId: 'kube', variable: 'KUBECONFIG']])
        assertThat(result.outcome).isEqualTo('SUCCEEDED')

        setUpPipeline()
        answers.rollback = { Map e -> [command: 'rollback', exitCode: 4, outcome: 'ROLLBACK_FAILED', reason: 'rollback failed: legacy: no previous release'] }
        Throwable failure = catchThrowable { runPipeline("dualDeployRollback(stage: 'prod')") }
        assertThat(cliCalls[0].env).containsEntry('DD_SIDE', 'both')
        assertThat(failure).hasMessageContaining('dualdeploy rollback of prod failed (exit 4): rollback failed: legacy: no previous release')
    }

    @Test
    void rollbackWithoutAStageIsAClearError() {
        Throwable failure = catchThrowable { runPipeline("dualDeployRollback(side: 'legacy')") }

        assertThat(failure).hasMessageContaining('dualDeployRollback needs stage:')
        assertThat(cliCalls).isEmpty()
    }

    @Test
    void aRunnerErrorBeforeTheCliRanFailsWithItsMessage() {
        answers.status = { Map e -> [command: 'status', exitCode: 2, error: 'cannot find the dualdeploy CLI 0.1.0-SNAPSHOT: set the step\'s cli: parameter'] }

        Throwable failure = catchThrowable { runPipeline("dualDeployStatus()") }

        assertThat(failure).hasMessageContaining('dualdeploy status failed (exit 2): cannot find the dualdeploy CLI')
    }
}
