"""The enrollment plugin's endpoints, one module per upstream area (scanned as a
package by ``lms_includeme``)."""
