package dev.dualdeploy.jenkins

import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

import static org.assertj.core.api.Assertions.assertThat
import static org.assertj.core.api.Assertions.catchThrowable

/**
 * The steps' tests still do what Jenkins does to a pipeline's state at every step that takes a body: serialize it and
 * read it back ({@link RoundTripHelper} only resolves the classes it reads once).
 */
class RoundTripHelperTest extends PipelineFixture {

    @BeforeEach
    void setUp() {
        setUpPipeline()
    }

    @Test
    void stateThatCannotBeSerializedFailsAtAStepWithABody() {
        Throwable failure = catchThrowable { runPipeline("def held = new Object()\nwithEnv(['A=1']) { echo 'inside' }\necho held.toString()") }

        assertThat(failure).isNotNull()
        assertThat(failure.toString() + failure.cause).contains('NotSerializableException').contains('java.lang.Object')
    }

    @Test
    void stateThatCanBeSerializedComesBackEqual() {
        runPipeline("def held = [names: ['a', 'b'], count: 2]\nwithEnv(['A=1']) { echo 'inside' }\necho held.toString()")

        assertThat(callsTo('echo')*.args*.getAt(0)*.toString()).containsExactly('inside', '[names:[a, b], count:2]')
    }
}
