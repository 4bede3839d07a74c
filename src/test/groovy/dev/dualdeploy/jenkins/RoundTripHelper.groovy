package dev.dualdeploy.jenkins

import com.lesfurets.jenkins.unit.cps.PipelineTestHelperCPS

/**
 * JenkinsPipelineUnit's CPS helper with the same serialization round trip at every step that takes a body (what
 * Jenkins does to a pipeline's state, so a step that holds something it cannot serialize fails here as it would
 * there), with each class the stream names resolved once per script class loader instead of once per round trip.
 * The Groovy class loader looks for a Groovy source of the name on every root and on the whole class path each time
 * it is asked; a pipeline run makes dozens of round trips over the same few hundred classes, and those look-ups were
 * nearly all of a test's time. A loader answers the same class for a name while it lives (no script changes during
 * a test), so the round trip resolves to exactly the classes it did before.
 */
class RoundTripHelper extends PipelineTestHelperCPS {

    private ClassLoader resolvedBy
    private final Map<String, Class<?>> resolved = [:]

    @Override
    <T> T roundtripSerialization(T object) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream()
        ObjectOutputStream out = new ObjectOutputStream(bytes)
        out.writeObject(object)
        out.close()
        ClassLoader loader = gse.groovyClassLoader
        if (!loader.is(resolvedBy)) {
            resolved.clear()
            resolvedBy = loader
        }
        ObjectInputStream input = new ResolvingObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()), loader, resolved)
        try {
            return (T) input.readObject()
        } finally {
            input.close()
        }
    }
}
