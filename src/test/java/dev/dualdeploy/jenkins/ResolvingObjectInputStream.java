package dev.dualdeploy.jenkins;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.util.Map;

/**
 * The stream the CPS library reads a pipeline's serialized state back with (its {@code ObjectInputStreamWithLoader}:
 * each class by name from the script class loader, else as {@link ObjectInputStream} does), with the classes it
 * resolved kept in {@code resolved}, which the caller keeps for as long as that loader lives: the Groovy class loader
 * looks for a source file of the name on every root and on the whole class path each time it is asked.
 */
final class ResolvingObjectInputStream extends ObjectInputStream {

    private final ClassLoader loader;
    private final Map<String, Class<?>> resolved;

    ResolvingObjectInputStream(InputStream in, ClassLoader loader, Map<String, Class<?>> resolved) throws IOException {
        super(in);
        this.loader = loader;
        this.resolved = resolved;
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
        Class<?> known = resolved.get(desc.getName());
        if (known == null) {
            try {
                known = loader.loadClass(desc.getName());
            } catch (ClassNotFoundException e) {
                known = super.resolveClass(desc);
            }
            resolved.put(desc.getName(), known);
        }
        return known;
    }
}
