package dev.dualdeploy.jenkins

import org.junit.jupiter.api.Test

import static org.assertj.core.api.Assertions.assertThat

/** The scripted examples run as they are; JenkinsPipelineUnit 1.1 cannot run declarative pipelines. */
class ExamplesTest extends PipelineFixture {

    private void runExample(String name, Map env, List<String> chainStages = ['sandbox', 'preprod', 'beta', 'prod']) {
        setUpPipeline(env)
        answers.stages = { Map e -> chain(chainStages) }
        helper.registerAllowedMethod('node', [String, Closure]) { String label, Closure body -> helper.callClosure(body) }
        helper.registerAllowedMethod('checkout', [Object]) { Object scm -> null }
        binding.setVariable('scm', [:])
        runPipeline(new File("examples/${name}").text)
    }

    @Test
    void theScriptedExampleDeploysAPrebuiltImageToKubernetesOnly() {
        runExample('scripted.Jenkinsfile', [BRANCH_NAME: 'main'])

        assertThat(commands()).containsExactly('stages', 'release', 'deploy sandbox', 'deploy preprod', 'deploy beta', 'plan prod',
                'approval prod', 'approval prod', 'deploy prod')
        assertThat(cliCalls[1].env).containsEntry('DD_IMAGE', 'registry.example.com/loan-api:1.4.2')
        List releases = cliCalls.drop(2).findAll { it.env.DD_COMMAND != 'approval' }
        assertThat(releases*.env*.DD_LEGACY).containsOnly('false')
        assertThat(releases*.env*.DD_VERSION).containsOnly('1.4.2')
        assertThat(callsTo('properties')).hasSize(1)
        assertThat(cliCalls[2].credentials).containsExactly([file: [credentialsId: 'loan-api-kubeconfig', variable: 'KUBECONFIG']])
        assertThat(callsTo('echo')*.args*.getAt(0)*.toString()).contains('deployed to prod: SUCCEEDED')
    }

    @Test
    void theMultibranchExampleDeploysAPullRequestToSandboxOnly() {
        runExample('multibranch.Jenkinsfile', [BRANCH_NAME: 'PR-123', CHANGE_ID: '123', GIT_COMMIT: 'feedfacecafebeef0000'], ['sandbox'])

        assertThat(cliCalls[0].env).containsEntry('DD_BRANCH', 'PR-123').containsEntry('DD_CHANGE_ID', '123')
        assertThat(commands()).containsExactly('stages', 'release', 'deploy sandbox')
        assertThat(shellCalls*.env*.DD_TAG).containsExactly('registry.example.com/loan-api:feedfacecafe')
        assertThat(callsTo('input')).isEmpty()
    }
}
